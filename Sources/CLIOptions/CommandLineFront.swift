import ArgumentParser
import Cores
import Foundation

/// How every AccelGen front end reads its command line: an input it refuses prints one line
/// naming the flag, the value and what is allowed, and exits with status 2 before anything is
/// written. ArgumentParser does the parsing; this adds what it leaves out (negative numbers
/// in the `--flag -3` form, repeated flags, empty values) and rewrites its messages, taking
/// "what is allowed" from each option's own help text, so the two never disagree.
public struct CommandLineFront<Root: ParsableCommand> {
    public let tool: String
    /// The arguments as given (without the program name).
    public let arguments: [String]
    /// The same arguments after negative values were joined to their flags (`--x=-3`).
    let normalized: [String]
    /// The subcommand the arguments select, by name (`generate-rtl systolic`).
    let commandPath: [String]
    /// How many leading arguments name subcommands.
    let subcommandArguments: Int
    let options: [String: OptionInfo]
    /// What the tool calls its subcommands in refusals ("core" for generate-rtl).
    let subcommandNoun: String
    /// The subcommands where one was expected and the arguments named none: the refusal's list.
    let expectedSubcommands: [String]?

    public init(_ root: Root.Type, tool: String, subcommandNoun: String = "subcommand",
                arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
        self.tool = tool
        self.arguments = arguments
        self.subcommandNoun = subcommandNoun
        let info = Self.toolInfo()
        var node = info
        var path = [tool]
        var rest = arguments[...]
        while let next = rest.first, let sub = node?.subcommands?.first(where: { $0.commandName == next }) {
            node = sub
            path.append(next)
            rest = rest.dropFirst()
        }
        // Arguments that stop where a subcommand must come: a word that names none (`generate-rtl
        // bogus`, `simulate bogus`), or an option before any (`generate-rtl --out D`).
        let subcommands = (node?.subcommands ?? []).map(\.commandName).filter { $0 != "help" }
        let hasDefault = path.count == 1 && Root.configuration.defaultSubcommand != nil
        if let next = rest.first, !subcommands.isEmpty, !["--help", "-h", "help", "--version", "--experimental-dump-help"].contains(next),
           hasDefault ? !next.hasPrefix("-") : true {
            expectedSubcommands = subcommands
        } else {
            expectedSubcommands = nil
        }
        // A root with a default subcommand takes that subcommand's options when none is named.
        if path.count == 1, let name = Root.configuration.defaultSubcommand?._commandName,
           let sub = node?.subcommands?.first(where: { $0.commandName == name }) {
            node = sub
            path.append(name)
        }
        commandPath = path
        subcommandArguments = arguments.count - rest.count
        var options: [String: OptionInfo] = [:]
        for argument in node?.arguments ?? [] {
            for name in argument.names ?? [] where name.kind == "long" { options[name.name] = argument }
        }
        self.options = options
        normalized = Array(arguments.prefix(arguments.count - rest.count)) + Self.joinNegativeValues(Array(rest), options: options)
    }

    /// Parses the arguments, or prints the one-line refusal and exits with status 2 (help and
    /// `--version` print and exit 0 as usual).
    public func parse() -> ParsableCommand {
        if let problem = precheck() { refuse(problem) }
        do {
            return try Root.parseAsRoot(normalized)
        } catch {
            if Root.exitCode(for: error) == .success { Root.exit(withError: error) }
            refuse(explain(Root.message(for: error)))
        }
    }

    /// Runs `body`, turning refused parameters into the one-line error; anything else keeps its
    /// own exit status (a failed check exits 1).
    public func run(_ body: () throws -> Void) -> Never {
        do {
            try body()
            exit(0)
        } catch let e as ParameterError {
            refuse(explain(e))
        } catch {
            if let status = (error as? ExitCode)?.rawValue { exit(status) }
            if Root.exitCode(for: error) == .validationFailure {
                refuse(explain(Root.message(for: error)))
            }
            Root.exit(withError: error)
        }
    }

    /// One line on standard error, status 2.
    public func refuse(_ message: String) -> Never {
        FileHandle.standardError.write(Data("\(tool): error: \(message)\n".utf8))
        exit(2)
    }

    /// A refused parameter, saying so when the user did not give the flag (its default, or
    /// another flag, caused the conflict).
    public func explain(_ e: ParameterError) -> String {
        if given(e.parameter) || options[e.parameter] == nil { return e.description }
        return "invalid value \(e.value) for --\(e.parameter) (its default; set --\(e.parameter) to change it): allowed \(e.allowed)"
    }

    /// Whether `--name` appears on the command line.
    public func given(_ name: String) -> Bool {
        normalized.contains { $0 == "--\(name)" || $0.hasPrefix("--\(name)=") }
    }

    // MARK: - Checks ArgumentParser does not make

    func precheck() -> String? {
        if let expected = expectedSubcommands, let word = arguments.dropFirst(subcommandArguments).first {
            let noun = subcommandNoun
            let parent = commandPath.prefix(subcommandArguments + 1).joined(separator: " ")
            if word.hasPrefix("-") {
                return "\(word) before any \(noun): give \(parent) one of \(expected.joined(separator: ", ")) first"
            }
            return "unknown \(noun) '\(word)' for \(parent): allowed \(expected.joined(separator: ", "))"
        }
        var seen: [String: String] = [:]
        var i = subcommandArguments
        let help = "see \(commandPath.joined(separator: " ")) --help"
        while i < normalized.count {
            let token = normalized[i]
            i += 1
            if token == "--" { break }
            guard token.hasPrefix("--") else { continue }
            let body = token.dropFirst(2)
            let name = String(body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0])
            let inline: String? = body.contains("=") ? String(body.drop(while: { $0 != "=" }).dropFirst()) : nil
            if name == "help" || name == "version" || name == "experimental-dump-help" { continue }
            guard let option = options[name] else {
                let known = options.keys.filter { $0 != "help" }.sorted().map { "--\($0)" }
                return "unknown option --\(name) for \(commandPath.joined(separator: " ")): allowed \(known.joined(separator: ", "))"
            }
            if option.kind == "flag" {
                if let inline { return "invalid value '\(inline)' for --\(name): it is a flag and takes no value" }
                if seen[name] != nil, option.isRepeating != true { return "--\(name) is given twice: give it once" }
                seen[name] = ""
                continue
            }
            var value = inline
            // An option parsed "unconditionally" takes the next word even when it looks like a
            // flag (sweep's --sbatch-arg --qos=normal).
            let takesAnything = option.parsingStrategy == "unconditional" || option.parsingStrategy == "unconditionalSingleValue"
            if value == nil, i < normalized.count, takesAnything || !normalized[i].hasPrefix("--") {
                value = normalized[i]
                i += 1
            }
            guard let value else { return "missing value for --\(name): allowed \(allowed(name)) (\(help))" }
            if value.isEmpty { return "invalid value '' for --\(name): allowed \(allowed(name))" }
            if let earlier = seen[name], option.isRepeating != true {
                return "--\(name) is given twice (\(earlier), then \(value)): give it once"
            }
            seen[name] = value
        }
        return nil
    }

    /// `--flag -3` becomes `--flag=-3` for options that take a value, so a negative number (a
    /// fractional length, say) works in the space form too.
    static func joinNegativeValues(_ args: [String], options: [String: OptionInfo]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < args.count {
            let token = args[i]
            if token.hasPrefix("--"), !token.contains("="), options[String(token.dropFirst(2))]?.kind == "option",
               i + 1 < args.count, isNegativeNumber(args[i + 1]) {
                out.append("\(token)=\(args[i + 1])")
                i += 2
            } else {
                out.append(token)
                i += 1
            }
        }
        return out
    }

    static func isNegativeNumber(_ s: String) -> Bool {
        s.count > 1 && s.first == "-" && Double(s) != nil
    }

    // MARK: - ArgumentParser's messages, rewritten

    /// One line naming the flag, the value and what is allowed, from ArgumentParser's message.
    func explain(_ message: String) -> String {
        let first = message.split(separator: "\n").first.map(String.init) ?? message
        if let m = first.firstMatch(of: /The value '(.*)' is invalid for '--([A-Za-z0-9-]+)/) {
            return "invalid value '\(m.1)' for --\(m.2): allowed \(allowed(String(m.2)))"
        }
        if let m = first.firstMatch(of: /Missing value for '--([A-Za-z0-9-]+)/) {
            return "missing value for --\(m.1): allowed \(allowed(String(m.1)))"
        }
        if let m = first.firstMatch(of: /Missing expected argument '--([A-Za-z0-9-]+)/) {
            let name = String(m.1)
            let what = options[name]?.abstract.map(Self.sentence) ?? "a value"
            return "missing --\(name): give \(what)"
        }
        if first.hasPrefix("Error: ") { return String(first.dropFirst(7)) }
        return first
    }

    /// What `--name` accepts: its enumerated values, else the range its help states, else the help.
    func allowed(_ name: String) -> String {
        guard let option = options[name] else { return "see --help" }
        if let values = option.allValues, !values.isEmpty { return values.joined(separator: ", ") }
        let help = option.abstract ?? ""
        if let range = help.firstMatch(of: /-?[0-9][0-9]*\.\.\.[^\s,;]*[^\s,;.)]/) {
            return String(range.0)
        }
        return help.isEmpty ? "see --help" : Self.sentence(help)
    }

    /// Help text as a clause: first letter lowercased, final period dropped.
    static func sentence(_ help: String) -> String {
        var s = help.hasSuffix(".") ? String(help.dropLast()) : help
        if let f = s.first, f.isUppercase, !(s.dropFirst().first?.isUppercase ?? false) {
            s = f.lowercased() + s.dropFirst()
        }
        return s
    }

    // MARK: - The option table, from ArgumentParser's own description of the tool

    struct ToolInfo: Decodable { let command: CommandInfo }
    struct CommandInfo: Decodable {
        let commandName: String
        let subcommands: [CommandInfo]?
        let arguments: [OptionInfo]?
    }
    struct OptionInfo: Decodable {
        struct Name: Decodable { let kind: String; let name: String }
        let kind: String
        let names: [Name]?
        let abstract: String?
        let allValues: [String]?
        let isRepeating: Bool?
        let parsingStrategy: String?
    }

    static func toolInfo() -> CommandInfo? {
        let json = Root._dumpHelp()
        return try? JSONDecoder().decode(ToolInfo.self, from: Data(json.utf8)).command
    }
}
