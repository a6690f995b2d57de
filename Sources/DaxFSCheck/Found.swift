/// One problem as a pass finds it, before the decision about it.
struct Found: Sendable {
    var code: ProblemCode
    var message: String
    init(_ code: ProblemCode, _ message: String) { self.code = code; self.message = message }
}
