import Foundation

/// Accuracy and mean cross-entropy of one genome's logits `[B][C]`.
///
/// Shapes: B examples, C classes; `expTable[k] = exp(-tau k)` for every possible logit gap k.
/// The loss of an example is `tau (max z - z_label) + log(sum_c exp(tau (z_c - max z)))`, summed
/// in example order in Double, so the value does not depend on threads. The logs of consecutive
/// examples are taken as the log of their product (each sum lies in [1, C]; the product is
/// flushed before it passes 1e250), one `log` per run of examples instead of one per example;
/// the relative error stays below 1e-13.
func scoreLogits(_ logits: UnsafePointer<Int32>, batch: ExampleBatch, classes C: Int,
                 tau: Double, expTable: [Double]) -> Score {
    let B = batch.count
    guard B > 0 else { return Score(correct: 0, count: 0, loss: 0) }
    return expTable.withUnsafeBufferPointer { table in
            batch.labels.withUnsafeBufferPointer { labels in
                var correct = 0
                var loss = 0.0
                var product = 1.0
                var row = logits
                for b in 0..<B {
                    var best = 0
                    var top = row[0]
                    for c in 1..<max(1, C) where row[c] > top {
                        top = row[c]
                        best = c
                    }
                    let label = labels[b]
                    precondition(label < C, "label \(label) of example \(b) is not below the class count \(C)")
                    if best == label { correct &+= 1 }
                    var total = 0.0
                    for c in 0..<C { total += table[Int(top &- row[c])] }
                    loss += tau * Double(top &- row[label])
                    if product > 1e250 {
                        loss += Foundation.log(product)
                        product = 1
                    }
                    product *= total
                    row += C
                }
                loss += Foundation.log(product)
                return Score(correct: correct, count: B, loss: loss / Double(B))
            }
    }
}
