import Foundation
import DaxCore
import DaxFS
import DaxFSCheck
import DaxFSFormat
import PMem

/// Which states a crash in the middle of an operation may leave, given the
/// states before and after it. Every contract also requires, after the
/// operation has returned, exactly the post-state: what completed is durable.
public struct CrashContract: Sendable {
    public let name: String
    let accepts: @Sendable (_ state: FSSnapshot, _ pre: FSSnapshot, _ post: FSSnapshot) -> Bool

    public init(name: String, accepts: @escaping @Sendable (FSSnapshot, FSSnapshot, FSSnapshot) -> Bool) {
        self.name = name
        self.accepts = accepts
    }

    /// All or nothing: the pre-state or the post-state.
    public static let atomic = CrashContract(name: "atomic") { s, pre, post in s == pre || s == post }

    /// A write to `path` that fits one step (see `Filesystem.write`): the
    /// post-state, or the pre-state's namespace and size where each byte of
    /// the file is its old or its new value (an overwrite in place is not
    /// atomic, as on ext4 and XFS).
    public static func write(_ path: String) -> CrashContract {
        CrashContract(name: "write") { s, pre, post in
            if s == post || s == pre { return true }
            var rest = s, preRest = pre
            rest.entries[path] = nil
            preRest.entries[path] = nil
            guard rest == preRest, case .file(let got)? = s.entries[path], case .file(let old)? = pre.entries[path],
                  case .file(let new)? = post.entries[path], got.count == old.count else { return false }
            for i in 0..<got.count where got[i] != old[i] && (i >= new.count || got[i] != new[i]) { return false }
            return true
        }
    }

    /// The state does not change (checkpoint, condensation, recovery).
    public static let unchanged = CrashContract(name: "unchanged") { s, pre, _ in s == pre }
}

/// One operation under crash test: how to build its starting state, what it
/// does, and its crash contract.
public struct CrashScenario: Sendable {
    public let name: String
    /// Builds what the operation needs on top of the starting image (not crash-tested).
    public var setup: @Sendable (Filesystem) throws -> Void = { _ in }
    public let operation: @Sendable (Filesystem) throws -> Void
    public let contract: CrashContract
    /// Mount options of the run under test (test-only faults go here).
    public var options = Filesystem.Options()
    /// Also crash at every persist point of the mount before the operation.
    public var crashDuringMount = false
    /// Also run `fsck -fn` (DaxFSCheck, read-only) on every recovered image:
    /// it must find nothing.
    public var fsckEveryImage = false
    /// The options without test-only faults: for building images and for recovery.
    public var recoveryOptions: Filesystem.Options {
        var o = options
        o.faults = []
        return o
    }

    public init(_ name: String, contract: CrashContract = .atomic, crashDuringMount: Bool = false,
                setup: @escaping @Sendable (Filesystem) throws -> Void = { _ in },
                operation: @escaping @Sendable (Filesystem) throws -> Void) {
        self.name = name
        self.setup = setup
        self.contract = contract
        self.crashDuringMount = crashDuringMount
        self.operation = operation
    }
}

/// What one scenario run found.
public struct CrashRun: Sendable, CustomStringConvertible {
    public var name: String
    public var crashPoints = 0
    public var images = 0
    public var nestedImages = 0
    public var failures: [String] = []
    /// Where the first failure was saved for replay.
    public var savedFailure: String?
    public var description: String {
        "\(name): \(crashPoints) crash points, \(images) images, \(nestedImages) nested, \(failures.count) failures"
            + (failures.first.map { " — first: \($0)" } ?? "")
    }
}

/// The crash-consistency harness (Chipmunk / Vinter / pmreorder style).
///
/// An operation runs over a `RecordingMedia`. At every fence, before every
/// flush, and once more after the operation returns, `CrashImages` builds
/// the images a power failure could leave from the stores still in flight.
/// Each image is mounted (which runs recovery) through a fresh recording
/// media, and must: mount; pass the engine's invariant checks; show no
/// stale-data sentinel in any mapped block; and equal the pre-state or the
/// post-state as the operation's contract says (after the operation has
/// returned, only the post-state). For a sample of images, recovery itself
/// is crashed at each of its persist points, and each of those images must
/// recover to the same state as the uninterrupted recovery.
public struct CrashHarness: Sendable {
    public var configuration: CrashImages.Configuration
    /// Crash recovery of one image in this many (0: never).
    public var nestedEvery: Int
    public var nestedConfiguration: CrashImages.Configuration
    public var seed: UInt64
    public var saveFailures: Bool
    /// Where failures are saved (crash-failures/ in the package by default).
    public var failureRoot = CrashFailure.defaultRoot

    public init(configuration: CrashImages.Configuration = .bounded, nestedEvery: Int = 16,
                nestedConfiguration: CrashImages.Configuration = CrashImages.Configuration(maxImages: 8),
                seed: UInt64 = 1, saveFailures: Bool = true) {
        self.configuration = configuration
        self.nestedEvery = nestedEvery
        self.nestedConfiguration = nestedConfiguration
        self.seed = seed
        self.saveFailures = saveFailures
    }

    /// A freshly formatted region image, all of it filled with the sentinel
    /// before mkfs, as the region of a crash test starts.
    public static func formattedImage(size: UInt64 = 1 << 20, logSize: UInt64 = 64 << 10,
                                      checkpointSize: UInt64 = 64 << 10, sentinel: UInt8 = 0xCD) throws -> [UInt8] {
        var r = Geometry.Request(regionSize: size)
        r.logSize = logSize
        r.checkpointSlotSize = checkpointSize
        let sb = try Geometry.plan(r, uuid: Array(0..<16), label: "crash", logSalt: 0x5eed_5a17_0000_0001, mkfsTime: 1)
        let media = RecordingMedia(image: [UInt8](repeating: sentinel, count: Int(size)), capturesPayloads: false)
        Mkfs.write(sb, to: media)
        return media.mediaImage
    }

    /// The image left by running `prepare` on `base`, syncing, and crashing
    /// right after (nothing unmounted: the log keeps its records). The sync
    /// matters under deferred durability, where without it the setup of a
    /// scenario would silently not be in its starting image.
    public static func image(from base: [UInt8], options: Filesystem.Options = .init(),
                             prepare: (Filesystem) throws -> Void) throws -> [UInt8] {
        let media = RecordingMedia(image: base, capturesPayloads: false)
        let fs = try Filesystem.mount(media: media, options: options)
        try prepare(fs)
        fs.sync()
        return media.mediaImage
    }

    /// The state after mounting `image` (recovery included).
    public static func recoveredState(_ image: [UInt8], options: Filesystem.Options = .init()) throws -> FSSnapshot {
        let fs = try Filesystem.mount(media: RecordingMedia(image: image, capturesPayloads: false), options: options)
        try fs.checkInvariants()
        return try FSSnapshot.take(fs)
    }

    /// Runs `scenario` from the starting image `start` (its setup is applied first).
    public func run(_ scenario: CrashScenario, from start: [UInt8], startName: String) throws -> CrashRun {
        let (base, pre, post) = try states(scenario, from: start)
        let name = "\(scenario.name) from \(startName)"

        var result = CrashRun(name: name)
        let rec = RecordingMedia(image: base, capturesPayloads: true)
        var completed = false
        var imageIndex = 0
        let seed = self.seed ^ UInt64(truncatingIfNeeded: name.hashValueStable)
        let hook: (CrashPoint) -> Void = { point in
            result.crashPoints += 1
            CrashImages(point: point, seed: seed, configuration: configuration).forEach { image in
                result.images += 1
                imageIndex += 1
                let bytes = image.materialize(base: point.media)
                let nested = nestedEvery > 0 && imageIndex % nestedEvery == 0
                if let why = check(bytes, pre: pre, post: post, scenario: scenario, completed: completed,
                                   nested: nested, nestedCount: &result.nestedImages, seed: seed) {
                    result.failures.append("\(image.location) [\(image.subset)]: \(why)")
                    if saveFailures && result.savedFailure == nil {
                        result.savedFailure = try? CrashFailure.write(name: name, image: image, point: point, events: rec.events,
                                                                      replayTest: "CrashTests.replaySavedFailure", root: failureRoot)
                        if let dir = result.savedFailure {
                            try? "\(scenario.name)\n\(startName)\n\(completed)\n".write(toFile: dir + "/scenario.txt", atomically: true, encoding: .utf8)
                        }
                    }
                }
            }
        }
        if scenario.crashDuringMount { rec.onCrashPoint = hook }
        let fs = try Filesystem.mount(media: rec, options: scenario.options)
        rec.onCrashPoint = hook
        try scenario.operation(fs)
        completed = true
        rec.fence(fileID: #fileID, line: #line)     // one more crash point: after the operation returned
        rec.onCrashPoint = nil
        return result
    }

    /// Re-checks a failure saved by `run`: rebuilds the scenario's pre- and
    /// post-states from `start` and checks the saved image. Returns why it is
    /// wrong (the failure reproduces) or nil.
    public func replay(_ directory: String, scenario: CrashScenario, start: [UInt8]) throws -> String? {
        let lines = try String(contentsOfFile: directory + "/scenario.txt", encoding: .utf8).split(separator: "\n")
        let completed = lines.count > 2 && lines[2] == "true"
        let (_, pre, post) = try states(scenario, from: start)
        var nested = 0
        return check(try CrashFailure.load(directory), pre: pre, post: post, scenario: scenario,
                     completed: completed, nested: false, nestedCount: &nested, seed: seed)
    }

    /// The scenario's base image (start plus setup), and its pre- and post-states.
    func states(_ scenario: CrashScenario, from start: [UInt8]) throws -> (base: [UInt8], pre: FSSnapshot, post: FSSnapshot) {
        let options = scenario.recoveryOptions
        let base = try Self.image(from: start, options: options, prepare: scenario.setup)
        let pre = try Self.recoveredState(base, options: options)
        let postFS = try Filesystem.mount(media: RecordingMedia(image: base, capturesPayloads: false), options: options)
        try scenario.operation(postFS)
        return (base, pre, try FSSnapshot.take(postFS))
    }

    /// Checks one crash image. Returns why it is wrong, or nil.
    public func check(_ bytes: [UInt8], pre: FSSnapshot, post: FSSnapshot, scenario: CrashScenario, completed: Bool,
                      nested: Bool, nestedCount: inout Int, seed: UInt64) -> String? {
        let contract = scenario.contract, options = scenario.recoveryOptions
        let media = RecordingMedia(image: bytes, capturesPayloads: nested)
        var nestedImages: [[UInt8]] = []
        if nested {
            media.onCrashPoint = { point in
                CrashImages(point: point, seed: seed, configuration: nestedConfiguration).forEach { image in
                    nestedImages.append(image.materialize(base: point.media))
                }
            }
        }
        let state: FSSnapshot
        do {
            let fs = try Filesystem.mount(media: media, options: options)
            media.onCrashPoint = nil
            try fs.checkInvariants()
            state = try FSSnapshot.take(fs)
            if scenario.fsckEveryImage {
                let report = try Fsck.check(media: media, options: CheckOptions(mode: .check, force: true))
                if report.exitStatus != 0 { return "fsck -fn after recovery: exit \(report.exitStatus): \(report.problems.prefix(3))" }
            }
        } catch {
            return "recovery: \(error)"
        }
        if completed ? state != post : !contract.accepts(state, pre, post) {
            let other = state.difference(from: completed ? post : pre)
            return "state is neither the pre- nor the post-state (\(contract.name)\(completed ? ", operation completed" : "")): \(other)"
        }
        for n in nestedImages {
            nestedCount += 1
            do {
                let again = try Self.recoveredState(n, options: options)
                if again != state { return "a crash during recovery recovers to another state: \(again.difference(from: state))" }
            } catch {
                return "a crash during recovery leaves an image that does not recover: \(error)"
            }
        }
        return nil
    }
}

extension String {
    /// A hash that is the same in every process (Swift's hashValue is seeded per process).
    var hashValueStable: UInt64 {
        utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
