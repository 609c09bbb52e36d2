import Foundation

/// Reads the IDX file pair of MNIST: an images file (magic 0x00000803, count, rows, columns,
/// then one unsigned byte per pixel) and a labels file (magic 0x00000801, count, one byte per
/// label). Magic numbers, dimensions, file sizes and the two counts are validated; an error names
/// the file and the byte offset.
public enum IDXLoader {
    public static func load(images imagesPath: String, labels labelsPath: String) throws(DataError) -> LabeledData {
        let images = try read(imagesPath)
        let labels = try read(labelsPath)
        let imageHeader = try header(images, path: imagesPath, magic: 0x0000_0803, dimensions: 3)
        let labelHeader = try header(labels, path: labelsPath, magic: 0x0000_0801, dimensions: 1)
        let count = imageHeader[0]
        guard labelHeader[0] == count else {
            throw DataError(
                path: labelsPath, problem: "holds \(labelHeader[0]) labels but \(imagesPath) holds \(count) images")
        }
        let features = imageHeader[1] * imageHeader[2]
        guard features > 0 else {
            throw DataError(
                path: imagesPath, problem: "bytes 8-15: image size \(imageHeader[1]) x \(imageHeader[2]) is empty")
        }
        try expectLength(images, 16 + count * features, path: imagesPath)
        try expectLength(labels, 8 + count, path: labelsPath)
        let labelValues = labels[8...].map(Int.init)
        guard count > 0 else { throw DataError(path: imagesPath, problem: "holds no images") }
        return LabeledData(
            features: images[16...].map(Float.init), featureCount: features, labels: labelValues,
            classCount: labelValues.max()! + 1, source: imagesPath)
    }

    static func read(_ path: String) throws(DataError) -> [UInt8] { try DataFileReader.read(path) }

    /// Whether the file is a regular file starting with the IDX magic of unsigned-byte images
    /// (0x00000803); a pipe or device is not opened (it could block).
    static func isImages(_ path: String) -> Bool {
        guard (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType == .typeRegular,
            let handle = FileHandle(forReadingAtPath: path)
        else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)).map { [UInt8]($0) == [0, 0, 8, 3] } ?? false
    }

    /// The dimensions after the magic number, validated.
    static func header(_ bytes: [UInt8], path: String, magic: UInt32, dimensions: Int) throws(DataError) -> [Int] {
        func word(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
                | UInt32(bytes[offset + 3])
        }
        guard bytes.count >= 4 + 4 * dimensions else {
            throw DataError(
                path: path, problem: "is \(bytes.count) bytes, shorter than its \(4 + 4 * dimensions)-byte IDX header")
        }
        let found = word(0)
        guard found == magic else {
            throw DataError(
                path: path,
                problem: String(
                    format: "byte 0: IDX magic 0x%08x; expected 0x%08x (%@)", found, magic,
                    dimensions == 3 ? "unsigned-byte images, 3 dimensions" : "unsigned-byte labels, 1 dimension"))
        }
        return (0..<dimensions).map { Int(word(4 + 4 * $0)) }
    }

    static func expectLength(_ bytes: [UInt8], _ expected: Int, path: String) throws(DataError) {
        guard bytes.count == expected else {
            throw DataError(
                path: path,
                problem: bytes.count < expected
                    ? "is truncated: \(bytes.count) bytes where its header announces \(expected)"
                    : "has \(bytes.count - expected) bytes after the \(expected) its header announces")
        }
    }
}

/// Loads a dataset file by its form: a folder holding an IDX pair (`*images*idx3*` and
/// `*labels*idx1*`), an IDX images file (recognised by its magic number, whatever its name;
/// its labels file has the same name with `images` replaced by `labels` and `idx3` by `idx1`),
/// `synthetic:TASK` (a built-in task, generated with `seed`), or else a CSV file.
public enum DatasetFile {
    /// The config key a dataset argument of a one-arm command becomes, by the same rules as
    /// `load` (keep the two in step): `synthetic` (the task), `idx` (a folder or an IDX images
    /// file) or `csv`.
    static func configKey(_ path: String) -> (key: String, value: String) {
        if path.hasPrefix("synthetic:") { return ("synthetic", String(path.dropFirst("synthetic:".count))) }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder),
            isFolder.boolValue || IDXLoader.isImages(path)
        {
            return ("idx", path)
        }
        return ("csv", path)
    }

    public static func load(_ path: String, seed: UInt64 = 1) throws(DataError) -> LabeledData {
        if path.hasPrefix("synthetic:") {
            guard let task = SyntheticTask(name: String(path.dropFirst("synthetic:".count))) else {
                throw DataError(
                    path: path,
                    problem:
                        "is not a built-in task: synthetic:xor, synthetic:parity:N (N in 1...16), synthetic:spirals or synthetic:spirals:N"
                )
            }
            return task.generate(seed: seed)
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw DataError(path: path, problem: "does not exist")
        }
        if isFolder.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            guard let images = names.sorted().first(where: { $0.contains("images") && $0.contains("idx3") }),
                let labels = names.sorted().first(where: { $0.contains("labels") && $0.contains("idx1") })
            else {
                throw DataError(
                    path: path, problem: "is a folder without an IDX pair (*images*idx3* and *labels*idx1*)")
            }
            return try IDXLoader.load(
                images: (path as NSString).appendingPathComponent(images),
                labels: (path as NSString).appendingPathComponent(labels))
        }
        if IDXLoader.isImages(path) {
            let folder = (path as NSString).deletingLastPathComponent, name = (path as NSString).lastPathComponent
            let labels = name.replacingOccurrences(of: "images", with: "labels").replacingOccurrences(
                of: "idx3", with: "idx1")
            guard labels != name else {
                throw DataError(
                    path: path,
                    problem:
                        "is an IDX images file, but its labels file cannot be named from it (expected a name with 'images' or 'idx3', as train-images-idx3-ubyte); pass the folder holding both"
                )
            }
            let labelsPath = folder.isEmpty ? labels : (folder as NSString).appendingPathComponent(labels)
            guard FileManager.default.fileExists(atPath: labelsPath) else {
                throw DataError(
                    path: path,
                    problem:
                        "is an IDX images file, but its labels file \(labelsPath) (named from it) does not exist; put the labels there or pass the folder holding both"
                )
            }
            return try IDXLoader.load(images: path, labels: labelsPath)
        }
        return try CSVLoader.load(path: path)
    }
}
