import Foundation

/// How much memory this process can still take, from every source that can refuse it: the
/// system's available memory, the process's address-space and data limits (`ulimit -v`,
/// `ulimit -d`: what a batch scheduler sets), and its control group's limit (a container's
/// or a job's `memory.max`). A run is checked against the smallest, before it allocates.
enum MemoryLimits {
    /// The smallest limit and what it is, for messages.
    static var tightest: (bytes: Int, source: String) {
        all.min { $0.bytes < $1.bytes } ?? (Int(ProcessInfo.processInfo.physicalMemory), "physical memory")
    }

    static var all: [(bytes: Int, source: String)] {
        var limits: [(Int, String)] = []
        if let available = meminfo("MemAvailable") { limits.append((available, "available")) }
        let virtual = status("VmSize") ?? 0, data = status("VmData") ?? 0
        for (resource, used, name) in [
            (RLIMIT_AS, virtual, "left under the process's address-space limit (ulimit -v)"),
            (RLIMIT_DATA, data, "left under the process's data limit (ulimit -d)"),
        ] {
            var limit = rlimit()
            // Unlimited is the largest value (RLIM_INFINITY, all bits set).
            if getrlimit(__rlimit_resource_t(resource.rawValue), &limit) == 0, limit.rlim_cur < UInt(1) << 60 {
                limits.append((max(0, Int(limit.rlim_cur) - used), name))
            }
        }
        if let group = controlGroup() { limits.append((group, "left under the process's control-group memory limit")) }
        return limits
    }

    /// Limit minus usage of the memory control group (v2 `memory.max`, v1 `memory.limit_in_bytes`).
    static func controlGroup() -> Int? {
        let lines = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8))?.split(separator: "\n") ?? []
        let unified = lines.first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
        let legacy = lines.first {
            $0.split(separator: ":").dropFirst().first?.split(separator: ",").contains("memory") == true
        }
        .map { String($0.split(separator: ":", maxSplits: 2).last ?? "") }
        var candidates: [(limit: String, usage: String)] = []
        if let legacy {
            for root in ["/sys/fs/cgroup/memory" + legacy, "/sys/fs/cgroup/memory"] {
                candidates.append((root + "/memory.limit_in_bytes", root + "/memory.usage_in_bytes"))
            }
        }
        if let unified {
            for root in ["/sys/fs/cgroup" + unified, "/sys/fs/cgroup"] {
                candidates.append((root + "/memory.max", root + "/memory.current"))
            }
        }
        for (limitFile, usageFile) in candidates {
            guard let limitText = try? String(contentsOfFile: limitFile, encoding: .utf8) else { continue }
            guard let limit = Int(limitText.trimmingCharacters(in: .whitespacesAndNewlines)), limit < 1 << 60 else {
                return nil
            }
            let usage =
                (try? String(contentsOfFile: usageFile, encoding: .utf8)).flatMap {
                    Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
                } ?? 0
            return max(0, limit - usage)
        }
        return nil
    }

    /// A `/proc/meminfo` field in bytes.
    static func meminfo(_ field: String) -> Int? { kilobytes(field, in: "/proc/meminfo") }
    /// A `/proc/self/status` field in bytes.
    static func status(_ field: String) -> Int? { kilobytes(field, in: "/proc/self/status") }

    static func kilobytes(_ field: String, in file: String) -> Int? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }),
            let value = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return value * 1024
    }
}
