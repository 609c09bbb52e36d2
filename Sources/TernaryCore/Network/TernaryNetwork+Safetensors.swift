/// Export to the safetensors format, which the Hugging Face and PyTorch ecosystem loads without
/// code of ours: an 8-byte little-endian header length N, N bytes of JSON (padded with spaces to
/// a multiple of 8), then the raw little-endian tensors back to back.
///
/// Tensors, per weight layer l (0-based): `layers.l.weight`, I8 `[n(l+1), n(l)]`, the trits
/// (-1, 0, +1), row-major; for hidden layers `layers.l.threshold`, I32 `[n(l+1)]`, and with a
/// multi-bit activation (`activation` `relu2` ... `relu8`) `layers.l.step`, I32 `[1]`. Metadata
/// (strings): `format` = `ternevo`, `activation`, `input_bits`, `input_low`, `input_high`
/// (Float32, shortest round-trip text), `input_scaling` (`global` or `per_feature`; with
/// per-feature scaling the ranges are the F32 tensors `input.low` and `input.high`),
/// `layer_sizes` (comma-separated) and `semantics`, one line stating the integer forward pass.
extension TernaryNetwork {
    public func safetensorsBytes() -> [UInt8] {
        var entries: [String] = []
        var payload: [UInt8] = []
        func add(_ name: String, dtype: String, shape: [Int], bytes: [UInt8]) {
            entries.append(
                "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(payload.count),\(payload.count + bytes.count)]}"
            )
            payload += bytes
        }
        if quantizer.isPerFeature {
            func floats(_ values: [Float]) -> [UInt8] {
                var writer = BinaryWriter()
                for value in values { writer.write(value) }
                return writer.bytes
            }
            add("input.low", dtype: "F32", shape: [inputCount], bytes: floats(quantizer.featureRanges.map(\.low)))
            add("input.high", dtype: "F32", shape: [inputCount], bytes: floats(quantizer.featureRanges.map(\.high)))
        }
        for (l, matrix) in weights.enumerated() {
            add(
                "layers.\(l).weight", dtype: "I8", shape: [matrix.rowCount, matrix.columnCount],
                bytes: matrix.trits.map { UInt8(bitPattern: $0) })
            if l < thresholds.count {
                var writer = BinaryWriter()
                for t in thresholds[l] { writer.write(t) }
                add("layers.\(l).threshold", dtype: "I32", shape: [thresholds[l].count], bytes: writer.bytes)
                if activation.isLevels {
                    var step = BinaryWriter()
                    step.write(steps[l])
                    add("layers.\(l).step", dtype: "I32", shape: [1], bytes: step.bytes)
                }
            }
        }
        let hidden =
            activation.isLevels
            ? "h = clamp(floor((s - threshold) / step), 0, \(activation.maxLevel))"
            : "h = s >= threshold ? +1 : -1"
        let tokenSemantics =
            "input = one-hot of a window of input_context symbols (input p*V + t is 1 when symbol p is t, V = the length of input_vocabulary, a JSON array; unseen characters map to its last symbol); s = W0 input (the sum of input_context weight columns); \(hidden); later layers s = W h; logits = W_last h (int32); p(next) = softmax(logits / temperature); prediction = first argmax"
        let semantics =
            tokens != nil
            ? tokenSemantics
            : "q = clamp(round_half_away((x - input_low) / (input_high - input_low) * (2^input_bits - 1)), 0, 2^input_bits - 1) in float64 (0 when high == low); s = W0 q; \(hidden); later layers s = W h; logits = W_last h (int32); prediction = first argmax"
        let metadata = [
            "format": "ternevo", "activation": activation.name, "input_bits": "\(quantizer.bits)",
            "input_scaling": quantizer.scalingName,
            "input_low": "\(quantizer.low)", "input_high": "\(quantizer.high)",
            "layer_sizes": layerSizes.map(String.init).joined(separator: ","), "semantics": semantics,
        ]
        var metadataText = [
            "format", "activation", "input_bits", "input_scaling", "input_low", "input_high", "layer_sizes",
            "semantics",
        ]
        .map { "\"\($0)\":\"\(metadata[$0]!)\"" }.joined(separator: ",")
        if let tokens {
            // Metadata values are strings: the vocabulary is a JSON array inside one, escaped.
            func escaped(_ text: String) -> String {
                var out = ""
                for scalar in text.unicodeScalars {
                    switch scalar {
                    case "\"": out += "\\\""
                    case "\\": out += "\\\\"
                    case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
                    default: out.unicodeScalars.append(scalar)
                    }
                }
                return out
            }
            let vocabulary = "[" + tokens.symbols.map { "\"" + escaped($0) + "\"" }.joined(separator: ",") + "]"
            metadataText +=
                ",\"input_kind\":\"tokens\",\"input_context\":\"\(tokens.context)\",\"input_vocabulary\":\"\(escaped(vocabulary))\""
        }
        if let temperature { metadataText += ",\"temperature\":\"\(temperature)\"" }
        var header = Array("{\"__metadata__\":{\(metadataText)},\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = BinaryWriter()
        out.write(UInt64(header.count))
        return out.bytes + header + payload
    }
}
