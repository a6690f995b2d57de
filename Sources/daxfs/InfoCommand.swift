import ArgumentParser
import DaxCore
import DaxFS
import DaxFSFormat

extension Daxfs {
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "info",
            abstract: "Show geometry, features, usage, log and checkpoint state of a region.",
            discussion: """
                info maps the region read-only and never writes to it, even when it is dirty. \
                A region with unknown incompatible features is shown, then info exits with status 69.

                JSON (--json), schema 1, keys in snake_case: region, kind ("file" or "devdax"), \
                version, uuid, label, state ("clean", "dirty" or "invalid"), mkfs_time (ns), \
                primary_superblock and backup_superblock ("valid", "missing", "corrupt: ..."), \
                geometry {region_size, block_size, alloc_unit, log_offset, log_size, checkpoint_offset, \
                checkpoint_slot_size, data_offset, data_size, backup_offset} (bytes), features {compat, \
                ro_compat, incompat, unknown_compat, unknown_ro_compat, unknown_incompat}, checkpoint \
                [{slot, valid, generation, replay_seq, problem}], current_slot, log {transactions, \
                records, used_bytes, next_seq, end}, usage {data_blocks, free_blocks, used_blocks, \
                inodes, extents}, pending_intents [{id, kind ("swap-extents", "truncate", "punch", \
                "zero-range" or "collapse"), ino1, block1, ino2, block2, count, done (blocks), size1, \
                size2}]: intents a read-write mount or fsck finishes.
                """)

        @Argument(help: "The region: a file or a device-DAX (/dev/daxX.Y).", completion: .file())
        var region: String

        @Flag(help: "Print the report as JSON.")
        var json = false

        func run() throws {
            let r = try RegionReport.read(region)
            defer {
                // info still shows a region it could not mount, then says so and fails.
                if r.features.unknownIncompat != 0 {
                    fail("\(region) uses incompatible features this daxfs does not know (\(FeatureMasks.names(r.features.unknownIncompat).joined(separator: ", "))); it cannot be mounted", status: ExitStatus.unsupported)
                }
            }
            if json { try JSONOutput.print(r); return }
            let g = r.geometry
            var out = """
                region        \(r.region) (\(r.kind))
                format        daxfs v\(r.version)
                uuid          \(r.uuid)
                label         \(r.label.isEmpty ? "(none)" : r.label)
                state         \(r.state)
                superblocks   primary \(r.primarySuperblock), backup \(r.backupSuperblock)
                size          \(ByteSize.human(g.regionSize)) (\(g.regionSize) bytes)
                block size    \(ByteSize.exact(UInt64(g.blockSize)))
                alloc unit    \(ByteSize.exact(UInt64(g.allocUnit)))
                log           \(ByteSize.exact(g.logSize)) at \(g.logOffset): \(r.log.transactions) transactions, \(r.log.records) records, \(r.log.usedBytes) bytes used, next sequence \(r.log.nextSeq), \(r.log.end)
                checkpoint    2 x \(ByteSize.exact(g.checkpointSlotSize)) at \(g.checkpointOffset), current slot \(r.currentSlot)
                """
            for s in r.checkpoint {
                out += "\n  slot \(s.slot)      " + (s.valid ? "generation \(s.generation!), replay from sequence \(s.replaySeq!)" : "invalid (\(s.problem ?? "?"))")
            }
            let u = r.usage
            let pct = u.dataBlocks == 0 ? 0 : Double(u.usedBlocks) * 100 / Double(u.dataBlocks)
            out += """

                data          \(ByteSize.human(g.dataSize)) at \(g.dataOffset): \(u.dataBlocks) blocks, \(u.usedBlocks) used (\(Int(pct.rounded()))%), \(u.freeBlocks) free
                inodes        \(u.inodes) (at the checkpoint)
                features      compat \(hex(r.features.compat)), ro_compat \(hex(r.features.roCompat)), incompat \(hex(r.features.incompat))
                pending       \(r.pendingIntents.isEmpty ? "no intents" : r.pendingIntents.map(\.description).joined(separator: "\n              "))
                """
            if r.features.unknownIncompat != 0 { out += "\nwarning: unknown incompat features \(hex(r.features.unknownIncompat)): this daxfs will not mount it" }
            if r.features.unknownRoCompat != 0 { out += "\nwarning: unknown ro_compat features \(hex(r.features.unknownRoCompat)): this daxfs mounts it read-only" }
            print(out)
        }

        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
    }
}
