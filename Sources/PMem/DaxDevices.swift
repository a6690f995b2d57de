#if canImport(Glibc)
import Glibc
#endif
import CDaxctl
import CNdctl
import DaxCore

/// A device-DAX character device (/dev/daxX.Y) as libdaxctl (or sysfs) reports it.
public struct DaxDevice: Sendable, Equatable, Codable {
    /// Kernel name, for example "dax0.0".
    public var name: String
    /// Character device path, for example "/dev/dax0.0".
    public var chardev: String
    public var major: Int32
    public var minor: Int32
    /// Size in bytes.
    public var size: UInt64
    /// Mapping alignment in bytes (4 KiB, 2 MiB or 1 GiB).
    public var align: UInt64
    /// "devdax" when usable as a character device, "system-ram" when onlined as memory.
    public var mode: String
    /// NUMA node of the CPU-side memory controller, -1 when unknown.
    public var numaNode: Int32
    /// Target node (the memory's own node), -1 when unknown.
    public var targetNode: Int32
    /// The dax region id, -1 when unknown.
    public var region: Int32
    /// The NVDIMM namespace behind the device (libndctl), when there is one.
    public var namespace: String?
    /// Where the facts came from: "libdaxctl" or "sysfs".
    public var source: String
}

/// Device-DAX discovery. libdaxctl first; sysfs (/sys/bus/dax/devices and
/// /sys/dev/char/MAJ:MIN) when libdaxctl cannot initialise.
public enum DaxDevices {
    /// Every device-DAX on the machine, sorted by name. An empty list is not an error.
    public static func list() -> [DaxDevice] {
        var devices = listWithDaxctl() ?? listWithSysfs()
        let namespaces = namespacesByDaxRegion()
        for i in devices.indices {
            if let ns = namespaces[devices[i].region] {
                devices[i].namespace = ns.name
                if devices[i].numaNode < 0 { devices[i].numaNode = ns.numaNode }
            }
        }
        return devices.sorted { $0.name < $1.name }
    }

    /// The device behind a character device number, or nil when it is not a device-DAX.
    public static func device(major: UInt32, minor: UInt32) -> DaxDevice? {
        if let d = (listWithDaxctl() ?? []).first(where: { $0.major == Int32(major) && $0.minor == Int32(minor) }) {
            return d
        }
        return sysfsDevice(major: major, minor: minor)
    }

    /// True when /sys/dev/char/MAJ:MIN belongs to the dax subsystem.
    public static func isDaxCharDevice(major: UInt32, minor: UInt32) -> Bool {
        guard let link = Sys.readLink("/sys/dev/char/\(major):\(minor)/subsystem") else { return false }
        return link.hasSuffix("/dax")
    }

    // MARK: libdaxctl

    private static func listWithDaxctl() -> [DaxDevice]? {
        var ctx: OpaquePointer?
        guard daxctl_new(&ctx) == 0, let ctx else { return nil }
        defer { daxctl_unref(ctx) }
        daxctl_set_log_priority(ctx, 0)
        var out: [DaxDevice] = []
        var region = daxctl_region_get_first(ctx)
        while let r = region {
            var dev = daxctl_dev_get_first(r)
            while let d = dev {
                let name = daxctl_dev_get_devname(d).map { String(cString: $0) } ?? "dax?"
                var mode = "devdax"
                if let mem = daxctl_dev_get_memory(d), daxctl_memory_is_online(mem) > 0 { mode = "system-ram" }
                if daxctl_dev_is_enabled(d) == 0 { mode = "disabled" }
                let numa = Sys.readSmallFile("/sys/bus/dax/devices/\(name)/numa_node").flatMap { Int32($0) } ?? -1
                out.append(DaxDevice(
                    name: name, chardev: "/dev/\(name)",
                    major: daxctl_dev_get_major(d), minor: daxctl_dev_get_minor(d),
                    size: daxctl_dev_get_size(d), align: UInt64(daxctl_dev_get_align(d)),
                    mode: mode, numaNode: numa, targetNode: daxctl_dev_get_target_node(d),
                    region: daxctl_region_get_id(r), namespace: nil, source: "libdaxctl"))
                dev = daxctl_dev_get_next(d)
            }
            region = daxctl_region_get_next(r)
        }
        return out
    }

    // MARK: libndctl

    private struct Namespace { var name: String; var numaNode: Int32 }

    /// Maps dax region ids to the devdax namespace that backs them.
    private static func namespacesByDaxRegion() -> [Int32: Namespace] {
        var ctx: OpaquePointer?
        guard ndctl_new(&ctx) == 0, let ctx else { return [:] }
        defer { ndctl_unref(ctx) }
        ndctl_set_log_priority(ctx, 0)
        var out: [Int32: Namespace] = [:]
        var bus = ndctl_bus_get_first(ctx)
        while let b = bus {
            var region = ndctl_region_get_first(b)
            while let r = region {
                var ns = ndctl_namespace_get_first(r)
                while let n = ns {
                    if Int32(ndctl_namespace_get_mode(n).rawValue) == daxfs_NDCTL_NS_MODE_DEVDAX,
                       let dax = ndctl_namespace_get_dax(n),
                       let dreg = ndctl_dax_get_daxctl_region(dax) {
                        let name = ndctl_namespace_get_devname(n).map { String(cString: $0) } ?? "namespace?"
                        out[daxctl_region_get_id(dreg)] = Namespace(name: name, numaNode: ndctl_namespace_get_numa_node(n))
                    }
                    ns = ndctl_namespace_get_next(n)
                }
                region = ndctl_region_get_next(r)
            }
            bus = ndctl_bus_get_next(b)
        }
        return out
    }

    // MARK: sysfs fallback

    private static func listWithSysfs() -> [DaxDevice] {
        guard let dir = opendir("/sys/bus/dax/devices") else { return [] }
        defer { closedir(dir) }
        var out: [DaxDevice] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix("dax"), let dev = Sys.readSmallFile("/sys/bus/dax/devices/\(name)/dev") else { continue }
            let parts = dev.split(separator: ":")
            guard parts.count == 2, let ma = UInt32(parts[0]), let mi = UInt32(parts[1]) else { continue }
            if let d = sysfsDevice(major: ma, minor: mi) { out.append(d) }
        }
        return out
    }

    private static func sysfsDevice(major: UInt32, minor: UInt32) -> DaxDevice? {
        let base = "/sys/dev/char/\(major):\(minor)"
        guard isDaxCharDevice(major: major, minor: minor),
              let sizeText = Sys.readSmallFile("\(base)/size"), let size = UInt64(sizeText) else { return nil }
        let name = Sys.readLink(base).map { String($0.split(separator: "/").last ?? "dax?") } ?? "dax\(major).\(minor)"
        let align = Sys.readSmallFile("\(base)/align").flatMap { UInt64($0) } ?? (2 << 20)
        let numa = Sys.readSmallFile("\(base)/numa_node").flatMap { Int32($0) } ?? -1
        let target = Sys.readSmallFile("\(base)/target_node").flatMap { Int32($0) } ?? -1
        let region = name.dropFirst(3).split(separator: ".").first.flatMap { Int32($0) } ?? -1
        return DaxDevice(name: name, chardev: "/dev/\(name)", major: Int32(major), minor: Int32(minor),
                         size: size, align: align, mode: "devdax", numaNode: numa, targetNode: target,
                         region: region, namespace: nil, source: "sysfs")
    }
}
