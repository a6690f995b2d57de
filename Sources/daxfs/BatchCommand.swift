import ArgumentParser
import DaxCore
import DaxFS
#if canImport(Glibc)
import Glibc
#endif

extension Daxfs {
    /// `daxfs io`: many file commands under one mount, in the spirit of `xfs_io -c`.
    struct Io: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "io",
            abstract: "Run file commands under one mount (batch mode).",
            discussion: """
                Commands come from -c (each one command) and then -f SCRIPT (one command a \
                line, - for standard input). A command is the subcommand without REGION, with \
                the same options: for example -c 'mkdir -p /a/b' -c 'put /etc/hosts /a/b/hosts'. \
                Words split as in a POSIX shell without expansion: 'single' and "double" quotes, \
                and a backslash escapes the next character (also inside double quotes); in a script, blank lines and lines starting with # are \
                skipped. Commands: \(FileCommands.all.map { $0.commandName }.joined(separator: ", ")).

                Every command is parsed before the region is mounted, so a syntax error changes \
                nothing. The region is mounted read-write when any command writes, else read-only. \
                The first failing command stops the batch, and its error is printed with its \
                line number ("daxfs: line N: ..."; -c commands are numbered first, then the \
                script's lines); with --keep-going the batch runs on. The exit status is that \
                of the first failure, or 0.

                Each command is atomic, and the batch is durable when io exits: within the \
                batch, the log records of commands that only add (touch, mkdir, writes and \
                allocations into new blocks) wait in memory and are written together behind \
                one fence, as a journal commit does; a command that frees blocks is made \
                durable at once. A crash during a batch leaves the commands before some \
                point, whole, in order, and none after it.
                """)

        @Argument(help: regionHelp, completion: .file())
        var region: String

        @Option(name: .short, help: ArgumentHelp("A command to run; repeat for more.", valueName: "command"))
        var command: [String] = []

        @Option(name: .short, help: ArgumentHelp("A script of commands, one a line, or - for standard input.", valueName: "script"),
                completion: .file())
        var file: String?

        @Flag(help: "Run the remaining commands after a failure.")
        var keepGoing = false

        struct Line {
            var number: Int
            var text: String
            var command: Parsed
        }

        /// One parsed line: a command built by the argument parser, or the
        /// operands of a path-list command whose options are all defaults
        /// (see `PathListCommand.run(operands:on:)`).
        enum Parsed {
            case command(any FileCommand)
            case operands(any PathListCommand.Type, [String])

            var writes: Bool {
                switch self {
                case .command(let c): type(of: c).writes
                case .operands(let t, _): t.writes
                }
            }

            func run(on fs: Filesystem) throws {
                switch self {
                case .command(let c): try c.run(on: fs)
                case .operands(let t, let words): try t.run(operands: words, on: fs)
                }
            }
        }

        func run() throws {
            var sources: [(Int, String)] = command.enumerated().map { ($0.offset + 1, $0.element) }
            if let f = file {
                let text = try readScript(f)
                var n = command.count
                for l in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
                    n += 1
                    let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
                    guard let first = l.firstIndex(where: { !blank($0) }), let last = l.lastIndex(where: { !blank($0) }) else { continue }
                    let t = l[first...last]
                    if t.first == 0x23 { continue }            // '#'
                    sources.append((n, String(decoding: t, as: UTF8.self)))
                }
            }
            if sources.isEmpty { throw ValidationError("give commands with -c or a script with -f") }
            var lines: [Line] = []
            for (n, text) in sources {
                do {
                    lines.append(Line(number: n, text: text, command: try Self.parse(text)))
                } catch let e as DaxError {
                    throw DaxError(e.code, "line \(n): \(e.message)")
                }
            }
            let writes = lines.contains { $0.command.writes }
            var options = Filesystem.Options(readOnly: !writes)
            options.durability = .deferred          // one fence for the batch, at unmount
            let fs = try Filesystem.mount(region, options: options)
            defer { try? fs.unmount() }
            var firstFailure: Int32?
            for l in lines {
                do {
                    try l.command.run(on: fs)
                } catch let e as DaxError {
                    try? Out.flush()
                    writeStderr("daxfs: line \(l.number): \(l.text): \(e.description)\n")
                    if firstFailure == nil { firstFailure = ExitStatus.of(e) }
                    if !keepGoing { break }
                }
            }
            try fs.unmount()
            try Out.flush()
            // Exit here: freeing a large mount's DRAM state on the way out costs
            // as much as a tenth of a big batch and serves nobody.
            Glibc.exit(firstFailure ?? 0)
        }

        func readScript(_ path: String) throws -> String {
            let host = try HostFile.openForReading(path)
            var data: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try host.read(into: $0) }
                if n == 0 { break }
                data += chunk[0..<n]
            }
            return String(decoding: data, as: UTF8.self)
        }

        /// One command line: its words, the command named by the first, and
        /// that command's arguments parsed from the rest. EINVAL on bad input.
        static func parse(_ text: String) throws -> Parsed {
            let words = try ShellWords.split(text)
            guard let name = words.first else { throw DaxError(.EINVAL, "empty command") }
            guard let type = FileCommands.named(name) else {
                throw DaxError(.EINVAL, "unknown command '\(name)' (commands: \(FileCommands.all.map { $0.commandName }.joined(separator: ", ")))")
            }
            return try parse(type, Array(words.dropFirst()))
        }

        private static func parse<T: FileCommand>(_ type: T.Type, _ arguments: [String]) throws -> Parsed {
            if let paths = T.self as? any PathListCommand.Type, !arguments.isEmpty, !arguments.contains(where: { $0.hasPrefix("-") }) {
                return .operands(paths, arguments)
            }
            do {
                return .command(try T.parse(arguments))
            } catch {
                throw DaxError(.EINVAL, "\(T.commandName): \(T.message(for: error))")
            }
        }
    }
}

/// Splits a command line into words as a POSIX shell does, without
/// expansions: single quotes keep everything; elsewhere, double quotes
/// included, a backslash escapes the next character.
enum ShellWords {
    static func split(_ line: String) throws -> [String] {
        // Most script lines have no quote or backslash: split at blanks only
        // (the same words the loop below gives them, in a fraction of the time).
        if let words = line.utf8.withContiguousStorageIfAvailable(plainWords), let words { return words }
        var words: [String] = []
        var word: [UInt8] = []
        var inWord = false
        var quote: UInt8 = 0                     // 0, or the quote byte we are inside
        var escape = false
        let sq: UInt8 = 0x27, dq: UInt8 = 0x22, bs: UInt8 = 0x5C
        for c in line.utf8 {
            if escape {
                word.append(c); escape = false; inWord = true
                continue
            }
            if quote == sq {
                if c == sq { quote = 0 } else { word.append(c) }
            } else if c == bs {
                escape = true
            } else if quote == dq {
                if c == dq { quote = 0 } else { word.append(c) }
            } else if c == sq || c == dq {
                quote = c; inWord = true
            } else if c == 0x20 || c == 0x09 {
                if inWord { words.append(String(decoding: word, as: UTF8.self)); word.removeAll(keepingCapacity: true); inWord = false }
            } else {
                word.append(c); inWord = true
            }
        }
        if quote != 0 { throw DaxError(.EINVAL, "unterminated \(quote == sq ? "'" : "\"") quote in: \(line)") }
        if escape { throw DaxError(.EINVAL, "a backslash ends the line: \(line)") }
        if inWord { words.append(String(decoding: word, as: UTF8.self)) }
        return words
    }

    /// The words of a line with no quote or backslash, split at blanks in
    /// one pass over its bytes; nil when the line has a quote or backslash.
    private static func plainWords(_ bytes: UnsafeBufferPointer<UInt8>) -> [String]? {
        var words: [String] = []
        var start = -1
        for i in bytes.indices {
            let c = bytes[i]
            if c == 0x27 || c == 0x22 || c == 0x5C { return nil }
            if c == 0x20 || c == 0x09 {
                if start >= 0 { words.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)); start = -1 }
            } else if start < 0 {
                start = i
            }
        }
        if start >= 0 { words.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self)) }
        return words
    }
}
