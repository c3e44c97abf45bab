#!/usr/bin/env python3
"""Generate MusterDRS's Codable model types from botocore's DRS service model.

The botocore model (botocore/data/drs/2020-02-26/service-2.json.gz) is the
law for DRS shapes. This script emits Swift for the shapes reachable from the
operations Muster uses, so field names, optionality and enum raw values can
never drift from the official model by hand-editing.

Usage:
    scripts/gen_drs_model.py [--model PATH] [--out Shared/DRS/Model]

Rules of the mapping:
- structure  -> public struct (Codable, Equatable, Sendable), members in model
                order, non-required members optional, public memberwise init.
                Error shapes also conform to Error; members bound to HTTP
                headers (Retry-After) are not part of the JSON body and are
                excluded from CodingKeys (the HTTP layer fills them).
- string enum-> public struct wrapping a String (RawRepresentable) with one
                static constant per model value, so values added by AWS later
                decode instead of failing.
- string     -> String (ISO8601DatetimeString is a string in the model, kept as
                one; DRSDateTime converts).
- integer    -> Int, long -> Int64, boolean -> Bool, list -> [T], map -> [K: V].
- union      -> struct with optional members (exactly one is set on the wire).
"""
from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import re
import sys

DEFAULT_MODEL = None
try:
    import botocore  # type: ignore

    DEFAULT_MODEL = os.path.join(
        os.path.dirname(botocore.__file__), "data", "drs", "2020-02-26", "service-2.json.gz"
    )
except ImportError:  # pragma: no cover - falls back to the known install path
    DEFAULT_MODEL = (
        "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/botocore/data/drs/2020-02-26/service-2.json.gz"
    )

OPERATIONS = [
    "StartRecovery",
    "DescribeJobs",
    "DescribeJobLogItems",
    "DescribeSourceServers",
    "GetLaunchConfiguration",
    "UpdateLaunchConfiguration",
    "DescribeRecoveryInstances",
    "TerminateRecoveryInstances",
    "DescribeRecoverySnapshots",
]

# Output files: each root shape pulls in the shapes first reached from it
# (in walk order). Everything not claimed lands in the file of the operation
# that first reaches it.
ENTITY_FILES = [
    ("Job", "Job.swift"),
    ("JobLog", "JobLog.swift"),
    ("SourceServer", "SourceServer.swift"),
    ("LaunchConfiguration", "LaunchConfiguration.swift"),
    ("RecoveryInstance", "RecoveryInstance.swift"),
]

SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static",
    "struct", "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do",
    "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while",
    "as", "catch", "false", "is", "nil", "super", "self", "Self", "throw", "throws", "true", "try", "Any",
}


# Members real DRS may answer with that botocore's model does not list (issue
# 13: the time of the newest point-in-time snapshot). Added to the model as
# optional members so Muster reads them when present and never needs them.
UNDOCUMENTED_MEMBERS = {
    "DataReplicationInfo": {
        "lastSnapshotDateTime": {
            "shape": "ISO8601DatetimeString",
            "documentation": "<p>When the newest point-in-time snapshot was taken (not in botocore's model; "
            "optional, read when present).</p>",
        },
    },
}


def load_model(path: str) -> dict:
    with gzip.open(path) as f:
        model = json.load(f)
    for shape, members in UNDOCUMENTED_MEMBERS.items():
        for name, member in members.items():
            model["shapes"][shape]["members"].setdefault(name, member)
    return model


def doc_text(raw: str | None, fallback: str) -> str:
    """First sentence of the model's HTML documentation, as plain text."""
    if not raw:
        return fallback
    text = re.sub(r"<[^>]+>", "", raw)
    text = html.unescape(text)
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    if len(sentence) > 300:
        sentence = sentence[:297].rstrip() + "..."
    return sentence or fallback


def ident(name: str) -> str:
    return f"`{name}`" if name in SWIFT_KEYWORDS else name


def enum_constant(raw: str) -> str:
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", raw) if p]
    if not parts:
        return "empty"
    if len(parts) == 1 and not raw.isupper():
        name = parts[0][0].lower() + parts[0][1:]  # already camelCase, e.g. unknownOperation
    else:
        name = parts[0].lower() + "".join(p[:1].upper() + p[1:].lower() for p in parts[1:])
    if name[0].isdigit():
        name = "v" + name
    return ident(name)


class Generator:
    def __init__(self, model: dict):
        self.model = model
        self.shapes = model["shapes"]
        self.order: list[str] = []  # named shapes (structures and enums) in walk order
        self.reach: dict[str, list[str]] = {}

    # --- reachability -------------------------------------------------------
    def walk(self, name: str, acc: list[str]) -> None:
        if name in acc:
            return
        acc.append(name)
        shape = self.shapes[name]
        for member in shape.get("members", {}).values():
            self.walk(member["shape"], acc)
        if "member" in shape:
            self.walk(shape["member"]["shape"], acc)
        if "key" in shape:
            self.walk(shape["key"]["shape"], acc)
            self.walk(shape["value"]["shape"], acc)

    def is_named(self, name: str) -> bool:
        shape = self.shapes[name]
        return shape["type"] == "structure" or (shape["type"] == "string" and "enum" in shape)

    # --- type mapping -------------------------------------------------------
    def swift_type(self, name: str) -> str:
        shape = self.shapes[name]
        kind = shape["type"]
        if kind == "structure":
            return name
        if kind == "string":
            return name if "enum" in shape else "String"
        if kind == "boolean":
            return "Bool"
        if kind == "integer":
            return "Int"
        if kind == "long":
            return "Int64"
        if kind == "list":
            return f"[{self.swift_type(shape['member']['shape'])}]"
        if kind == "map":
            return f"[{self.swift_type(shape['key']['shape'])}: {self.swift_type(shape['value']['shape'])}]"
        if kind == "timestamp":
            return "String"
        raise ValueError(f"unsupported shape type {kind} for {name}")

    def member_note(self, member_shape: str) -> str:
        """Constraints from the model worth knowing at the call site."""
        shape = self.shapes[member_shape]
        notes = []
        if member_shape == "ISO8601DatetimeString":
            return "ISO 8601 date-time string such as `2024-05-01T12:00:00.123Z` (see `DRSDateTime`)"
        generic_text = shape["type"] == "string" and "pattern" not in shape and shape.get("max", 0) >= 65536
        if ("min" in shape or "max" in shape) and not generic_text:
            lo, hi = shape.get("min"), shape.get("max")
            unit = "items" if shape["type"] in ("list", "map") else ("" if shape["type"] in ("integer", "long") else "chars")
            suffix = f" {unit}" if unit else ""
            if hi is None:
                notes.append(f"model minimum {lo}{suffix}")
            else:
                notes.append(f"model range {lo if lo is not None else 0}…{hi}{suffix}")
        if "pattern" in shape:
            notes.append(f"pattern `{shape['pattern']}`")
        if shape.get("sensitive"):
            notes.append("sensitive: never log")
        return "; ".join(notes)

    # --- emitters -----------------------------------------------------------
    def emit_enum(self, name: str) -> str:
        shape = self.shapes[name]
        doc = doc_text(shape.get("documentation"), f"The DRS `{name}` enumeration.")
        lines = [
            f"/// {doc}",
            "///",
            f"/// Model shape `{name}`. A struct rather than a Swift enum so that values AWS adds later",
            "/// decode (and round-trip) instead of failing.",
            f"public struct {name}: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {{",
            "    /// The wire value.",
            "    public let rawValue: String",
            "",
            "    /// Wraps any wire value, known or not.",
            "    public init(rawValue: String) { self.rawValue = rawValue }",
            "",
        ]
        for value in shape["enum"]:
            lines.append(f"    /// `{value}`")
            lines.append(f"    public static let {enum_constant(value)} = {name}(rawValue: \"{value}\")")
        lines += [
            "",
            "    /// Every value the model knew when this file was generated.",
            f"    public static let allKnown: [{name}] = [",
        ]
        for value in shape["enum"]:
            lines.append(f"        .{enum_constant(value).strip('`')},")
        lines += [
            "    ]",
            "",
            "    /// Whether the value is one the model knew at generation time.",
            "    public var isKnown: Bool { Self.allKnown.contains(self) }",
            "",
            "    /// The wire value.",
            "    public var description: String { rawValue }",
            "",
            "    /// Decodes any string; unknown values are kept, not rejected.",
            "    public init(from decoder: any Decoder) throws {",
            "        self.rawValue = try decoder.singleValueContainer().decode(String.self)",
            "    }",
            "",
            "    /// Encodes the wire value.",
            "    public func encode(to encoder: any Encoder) throws {",
            "        var container = encoder.singleValueContainer()",
            "        try container.encode(rawValue)",
            "    }",
            "}",
        ]
        return "\n".join(lines)

    def emit_struct(self, name: str) -> str:
        shape = self.shapes[name]
        required = set(shape.get("required", []))
        members = shape.get("members", {})
        is_error = shape.get("exception", False)
        header_members = {k for k, v in members.items() if v.get("location") == "header"}
        doc = doc_text(shape.get("documentation"), f"The DRS `{name}` structure.")
        conformances = "DRSErrorShape, Equatable" if is_error else "Codable, Equatable, Sendable"
        lines = [f"/// {doc}", "///", f"/// Model shape `{name}`."]
        if is_error:
            status = shape.get("error", {}).get("httpStatusCode")
            lines.append(f"/// Error type `{name}`, HTTP {status} (`errorType`, `httpStatusCode`).")
        if shape.get("union"):
            lines.append("/// A union in the model: exactly one member is set on the wire.")
        lines.append(f"public struct {name}: {conformances} {{")
        if is_error:
            status = shape.get("error", {}).get("httpStatusCode")
            lines += [
                "    /// The value of `x-amzn-ErrorType` / `__type` for this error.",
                f"    public static let errorType = \"{name}\"",
                "    /// The HTTP status DRS answers this error with.",
                f"    public static let httpStatusCode = {status}",
                "    /// Whether the model marks this a server-side fault (retryable) rather than the caller's.",
                f"    public static let isServerFault = {'true' if shape.get('fault') else 'false'}",
                "",
            ]
        params = []
        for mname, m in members.items():
            mtype = self.swift_type(m["shape"])
            opt = mname not in required
            mdoc = doc_text(m.get("documentation"), f"`{mname}`.")
            note = self.member_note(m["shape"])
            lines.append(f"    /// {mdoc}")
            if note:
                lines.append(f"    ///")
                lines.append(f"    /// {note[0].upper() + note[1:]}.")
            if m.get("location") == "header":
                lines.append(f"    ///")
                lines.append(f"    /// Carried in the `{m['locationName']}` HTTP header, not the JSON body.")
            if opt:
                lines.append(f"    public var {ident(mname)}: {mtype}?")
                params.append(f"{ident(mname)}: {mtype}? = nil")
            else:
                lines.append(f"    public var {ident(mname)}: {mtype}")
                params.append(f"{ident(mname)}: {mtype}")
        if members:
            lines.append("")
        lines.append("    /// Memberwise initializer; optional members default to nil.")
        if params:
            lines.append("    public init(")
            lines.append(",\n".join(f"        {p}" for p in params))
            lines.append("    ) {")
            for mname in members:
                lines.append(f"        self.{mname} = {ident(mname)}")
            lines.append("    }")
        else:
            lines.append("    public init() {}")
        if header_members:
            lines += [
                "",
                "    /// JSON body members only; header-bound members are filled by the HTTP layer.",
                "    enum CodingKeys: String, CodingKey {",
            ]
            for mname in members:
                if mname not in header_members:
                    lines.append(f"        case {ident(mname)}")
            lines.append("    }")
        lines.append("}")
        return "\n".join(lines)

    def emit_operations(self) -> str:
        lines = [
            "/// The DRS operations Muster uses, as the model declares them: every one is",
            "/// `POST /{OperationName}` with a REST-JSON body, signed with SigV4 (`service=drs`).",
            "public struct DRSOperation: Hashable, Sendable, CustomStringConvertible {",
            "    /// The operation name, e.g. `StartRecovery`.",
            "    public let name: String",
            "    /// The request path, e.g. `/StartRecovery`.",
            "    public let requestURI: String",
            "    /// The HTTP status of a successful answer (202 for StartRecovery, else 200).",
            "    public let successStatus: Int",
            "    /// Error types the model lists for this operation.",
            "    public let errors: [String]",
            "",
            "    /// The operation name.",
            "    public var description: String { name }",
            "",
        ]
        for op in OPERATIONS:
            o = self.model["operations"][op]
            const = op[0].lower() + op[1:]
            errs = ", ".join(f'"{e["shape"]}"' for e in o.get("errors", []))
            lines += [
                f"    /// `{op}`: {doc_text(o.get('documentation'), op)}",
                f"    public static let {const} = DRSOperation(",
                f"        name: \"{op}\", requestURI: \"{o['http']['requestUri']}\", successStatus: {o['http'].get('responseCode', 200)},",
                f"        errors: [{errs}]",
                "    )",
            ]
        lines += [
            "",
            "    /// Every operation above, for routing.",
            "    public static let all: [DRSOperation] = [",
        ]
        for op in OPERATIONS:
            lines.append(f"        .{op[0].lower() + op[1:]},")
        lines += ["    ]", "}"]
        return "\n".join(lines)

    def emit_error_catalog(self, errors: list[str]) -> str:
        lines = [
            "/// Every DRS error type reachable from the operations Muster uses, with its HTTP status",
            "/// (from the model's `error.httpStatusCode`).",
            "public enum DRSErrorCatalog {",
            "    /// Error type name → HTTP status.",
            "    public static let httpStatus: [String: Int] = [",
        ]
        for e in errors:
            lines.append(f"        \"{e}\": {self.shapes[e]['error']['httpStatusCode']},")
        lines += ["    ]", "}"]
        return "\n".join(lines)

    # --- files --------------------------------------------------------------
    def generate(self) -> dict[str, str]:
        files: dict[str, list[str]] = {}
        claimed: set[str] = set()

        def claim(file: str, root: str) -> None:
            acc: list[str] = []
            self.walk(root, acc)
            for n in acc:
                if n not in claimed and self.is_named(n):
                    claimed.add(n)
                    files.setdefault(file, []).append(n)

        errors: list[str] = []
        for op in OPERATIONS:
            for e in self.model["operations"][op].get("errors", []):
                if e["shape"] not in errors:
                    errors.append(e["shape"])
        # Errors.swift first so error shapes (and ValidationExceptionField) live together.
        for e in errors:
            claim("Errors.swift", e)
        for root, file in ENTITY_FILES:
            claim(file, root)
        for op in OPERATIONS:
            o = self.model["operations"][op]
            file = f"Operations/{op}.swift"
            claim(file, o["input"]["shape"])
            if "output" in o:
                claim(file, o["output"]["shape"])

        header = (
            "// Generated by scripts/gen_drs_model.py from botocore's DRS model\n"
            f"// (drs {self.model['metadata']['apiVersion']}). Do not edit: change the generator and re-run it.\n"
            "// swiftlint:disable all\n"
        )
        out: dict[str, str] = {}
        for file, names in files.items():
            bodies = []
            for n in names:
                shape = self.shapes[n]
                bodies.append(self.emit_struct(n) if shape["type"] == "structure" else self.emit_enum(n))
            out[file] = header + "\n" + "\n\n".join(bodies) + "\n"
        out["DRSOperation.swift"] = header + "\n" + self.emit_operations() + "\n\n" + self.emit_error_catalog(errors) + "\n"
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Shared", "DRS", "Model")
    )
    args = parser.parse_args()
    gen = Generator(load_model(args.model))
    files = gen.generate()
    out = os.path.abspath(args.out)
    os.makedirs(os.path.join(out, "Operations"), exist_ok=True)
    for rel, text in sorted(files.items()):
        path = os.path.join(out, rel)
        with open(path, "w") as f:
            f.write(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
