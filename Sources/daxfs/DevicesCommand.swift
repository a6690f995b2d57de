import ArgumentParser
import DaxCore
import DaxFS
import PMem

extension Daxfs {
    struct Devices: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "devices",
            abstract: "List device-DAX devices and whether each holds daxfs.",
            discussion: """
                Devices come from libdaxctl (with sysfs as the fallback) and the \
                namespace behind each from libndctl. With no devices the list is \
                empty and the exit status is 0.

                JSON (--json), schema 1: {"devices": [{chardev, name, size, align, mode \
                ("devdax", "system-ram" or "disabled"), numa_node, target_node, region, namespace \
                (or absent), daxfs ("yes", "no", "damaged", "newer format" or "unknown" when the \
                device cannot be read), source ("libdaxctl" or "sysfs")}]}. Sizes are in bytes.
                """)

        @Flag(help: "Print the list as JSON.")
        var json = false

        struct Row: Encodable {
            var chardev: String
            var name: String
            var size: UInt64
            var align: UInt64
            var mode: String
            var numaNode: Int32
            var targetNode: Int32
            var region: Int32
            var namespace: String?
            var daxfs: String
            var source: String
        }
        struct Listing: Encodable { var devices: [Row] }

        func run() throws {
            let rows = DaxDevices.list().map { d -> Row in
                var holds = "unknown"
                if d.mode == "devdax", let m = try? MappedRegion.map(d.chardev, readOnly: true) {
                    holds = RegionReport.holdsDaxfs(m)
                }
                return Row(chardev: d.chardev, name: d.name, size: d.size, align: d.align, mode: d.mode,
                           numaNode: d.numaNode, targetNode: d.targetNode, region: d.region,
                           namespace: d.namespace, daxfs: holds, source: d.source)
            }
            if json { try JSONOutput.print(Listing(devices: rows)); return }
            let header = ["DEVICE", "SIZE", "ALIGN", "MODE", "NUMA", "TARGET", "NAMESPACE", "DAXFS"]
            var table = [header]
            for r in rows {
                table.append([r.chardev, ByteSize.human(r.size), ByteSize.exact(r.align), r.mode, String(r.numaNode),
                              String(r.targetNode), r.namespace ?? "-", r.daxfs])
            }
            let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
            for row in table {
                print(row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(widths[$0]) }.joined(separator: "  "))
            }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
