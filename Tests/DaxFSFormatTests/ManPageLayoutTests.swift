import Testing
import DaxFSFormat
import DaxFSTestSupport

/// Holds man/daxfs.5 and the code together: every record layout in the code
/// has a table in the page with the same fields, offsets, sizes and types.
@Suite struct ManPageLayoutTests {
    static let layouts: [RecordLayout] = [
        Superblock.layout, CheckpointHeader.layout, CheckpointChunk.layout, TransactionHeader.layout,
        LogRecord.headerLayout, InodeRecord.layout, InodeAttrRecord.layout, ExtentRecord.layout,
        BlockRange.layout, IntentRecord.layout,
    ] + LogRecord.Payload.all

    @Test(arguments: layouts.map(\.name))
    func tableMatchesCode(name: String) {
        let layout = Self.layouts.first { $0.name == name }!
        guard let doc = ManPage.layouts()[name] else {
            Issue.record("man/daxfs.5 has no layout table for \(name)")
            return
        }
        #expect(doc.size == layout.size, "declared size of \(name)")
        let code = layout.fields.map { ManPage.Row(offset: $0.offset, size: $0.size, kind: $0.kind.rawValue, name: $0.name) }
        #expect(doc.rows == code, "\(name): page rows differ from the code")
    }

    @Test func noUndocumentedOrStaleTables() {
        let documented = Set(ManPage.layouts().keys)
        #expect(documented == Set(Self.layouts.map(\.name)))
    }

    /// Every record type's fixed length is its payload layout's size, so the
    /// fuzzer and the tables above cover the whole payload.
    @Test func payloadLayoutsCoverEveryRecordType() {
        for t in LogRecord.RecordType.allCases {
            if let n = t.payloadSize { #expect(n == t.payloadLayout.size, "\(t.name): payload size \(n), layout \(t.payloadLayout.size)") }
            #expect(Self.layouts.contains { $0.name == t.payloadLayout.name }, "\(t.name): payload layout has no man page table")
        }
    }

    @Test func recordTypesAreDocumented() {
        let text = ManPage.text()
        for t in LogRecord.RecordType.allCases {
            #expect(text.contains(t.name), "record type \(t.name) missing from man/daxfs.5")
        }
    }
}
