import DaxFS

/// Mounts a region in the test process, for tests that need "another process" to hold it.
public func mountForTest(_ path: String, readOnly: Bool = false) throws -> Filesystem {
    try Filesystem.mount(path, options: .init(readOnly: readOnly))
}
