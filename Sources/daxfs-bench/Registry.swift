/// Every group of rows, in the order the report shows them. A new group is
/// one file (an enum with a `group` property) and one line here.
enum Registry {
    static var groups: [BenchGroup] {
        [
            PhysicalLimits.group,
            MkfsRows.group,
            EngineRows.group,
            AllocationRows.group,
            FallocateRows.group,
            SwapRows.group,
            DirectAccessRows.group,
            FileRows.group,
            FsckRows.group,
            ScalingRows.extentGroup,
            ScalingRows.sizeGroup,
        ]
    }
}
