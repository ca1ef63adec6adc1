import Attention
import AttentionIO
import Foundation
import Testing

/// The seed corpus that `make fuzz-files` starts libFuzzer from. Every seed
/// is a valid file, so a reader change that rejects one shows up here and
/// not only as lost coverage in a fuzzing run.
private let corpusDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fuzz/corpus")

private func corpusFiles(_ reader: String) -> [String] {
    let directory = corpusDirectory.appendingPathComponent(reader)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.sorted().map { directory.appendingPathComponent($0).path }
}

@Test func npyCorpusIsPresent() {
    #expect(corpusFiles("npy").count >= 10)
}

@Test(arguments: corpusFiles("npy"))
func npyCorpusSeedLoads(path: String) throws {
    let array = try NPYArray(contentsOfFile: path)
    switch array.dtype.kind {
    case .float:
        let tensor = try array.tensor()
        #expect(tensor.shape == array.shape)
    case .bool:
        let mask = try array.boolTensor()
        #expect(mask.shape == array.shape)
    case .signedInteger, .unsignedInteger:
        let values = try array.integers()
        #expect(values.count == array.elementCount)
    }
}

@Test func safeTensorsCorpusIsPresent() {
    #expect(corpusFiles("safetensors").count >= 4)
}

@Test(arguments: corpusFiles("safetensors"))
func safeTensorsCorpusSeedLoads(path: String) throws {
    let file = try SafeTensorsFile(path: path)
    #expect(!file.tensorNames.isEmpty)
    for name in file.tensorNames {
        let info = try file.info(named: name)
        if info.dtype.convertsToFloat32 {
            let tensor = try file.tensor(named: name)
            #expect(tensor.shape == info.shape, "tensor \(name)")
        } else {
            let error = #expect(throws: SafeTensorsError.self) { try file.tensor(named: name) }
            #expect(error?.kind == .unsupportedDType, "tensor \(name)")
        }
    }
}
