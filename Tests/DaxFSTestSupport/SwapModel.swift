import DaxCore

/// swap-extents on a model of file bytes: the checks the engine makes, in
/// bytes (4 KiB allocation unit), and the exchange itself.
public enum SwapModel {
    static let unit = 4096

    /// Applies a swap of files `a` and `b` to `files`; kind 0 is whole
    /// files, 1 to EOF from the offsets, 2 a range of `length`. Returns
    /// the errno the engine must fail with (and leaves `files` alone), or
    /// nil.
    public static func apply(_ files: inout [Int: [UInt8]], _ a: Int, _ b: Int, kind: Int,
                             offset1: Int, offset2: Int, length: Int) -> Errno? {
        guard let fa = files[a], let fb = files[b] else { return .ENOENT }
        let s1 = fa.count, s2 = fb.count
        let (o1, o2) = kind == 0 ? (0, 0) : (offset1, offset2)
        if o1 % unit != 0 || o2 % unit != 0 { return .EINVAL }
        if kind < 2 {
            if a == b || o1 > s1 || o2 > s2 { return .EINVAL }
            files[a] = Array(fa[..<o1]) + Array(fb[o2...])
            files[b] = Array(fb[..<o2]) + Array(fa[o1...])
            return nil
        }
        let len = length
        if len <= 0 || o1 + len > s1 || o2 + len > s2 { return .EINVAL }
        if len % unit != 0 && !(o1 + len == s1 && o2 + len == s2) { return .EINVAL }
        let blocks = (len + unit - 1) / unit * unit
        if a == b && o1 < o2 + blocks && o2 < o1 + blocks { return .EINVAL }
        let ra = Array(fa[o1..<o1 + len]), rb = Array(files[b]![o2..<o2 + len])
        files[a]!.replaceSubrange(o1..<o1 + len, with: rb)
        files[b]!.replaceSubrange(o2..<o2 + len, with: ra)
        return nil
    }
}
