import Foundation
import Testing
import DaxFSTestSupport

/// man/daxfs.8 and completions/ are generated from the argument parser by
/// scripts/gen-docs.sh and kept in the repo. These tests fail when they are
/// stale. (.ci/run also runs `scripts/gen-docs.sh --check` for an exact diff.)
@Suite struct DocsFreshnessTests {
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptIsCurrent(shell: String) throws {
        let generated = CLI.run(["--generate-completion-script", shell])
        #expect(generated.status == 0)
        let committed = try String(contentsOfFile: packageRoot + "/completions/daxfs.\(shell)", encoding: .utf8)
        #expect(committed == generated.stdout, "completions/daxfs.\(shell) is stale: run scripts/gen-docs.sh")
    }

    @Test func manPageNamesEveryCommandAndOption() throws {
        let dump = CLI.run(["--experimental-dump-help"])
        #expect(dump.status == 0)
        let json = try #require(CLI.json(dump))
        let man = try String(contentsOfFile: packageRoot + "/man/daxfs.8", encoding: .utf8)
        var missing: [String] = []
        func walk(_ command: [String: Any]) {
            for key in ["abstract"] {
                if let s = command[key] as? String, !s.isEmpty, !man.contains(s) { missing.append(s) }
            }
            for arg in command["arguments"] as? [[String: Any]] ?? [] {
                if let s = arg["abstract"] as? String, !s.isEmpty, !man.contains(s) { missing.append(s) }
                for name in arg["names"] as? [[String: Any]] ?? [] where (name["kind"] as? String) == "long" {
                    if let n = name["name"] as? String, !man.contains("Fl -\(n)"), !man.contains(", -\(n)") { missing.append("--\(n)") }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub) }
        }
        walk(try #require(json["command"] as? [String: Any]))
        #expect(missing.isEmpty, "man/daxfs.8 is stale (run scripts/gen-docs.sh); missing: \(missing)")
    }

    @Test func exitStatusesAreDocumented() throws {
        let help = CLI.run(["--help"])
        let man = try String(contentsOfFile: packageRoot + "/man/daxfs.8", encoding: .utf8)
        for code in ["64", "65", "66", "69", "73", "74", "75"] {
            #expect(help.stdout.contains("  \(code)  "), "exit status \(code) missing from --help")
            #expect(man.contains("  \(code)  "), "exit status \(code) missing from daxfs(8)")
        }
    }
}
