import Testing
@testable import Attention

@Test func smokeC1() throws {
    let q = try Tensor(shape: [1,1,3,2], scalars: [1,0,0,1,1,1])
    let k = try Tensor(shape: [1,1,3,2], scalars: [1,0,0,1,-1,1])
    let v = try Tensor(shape: [1,1,3,2], scalars: [1,2,3,4,5,6])
    let m = try BoolTensor(shape: [3,3], scalars: [true,true,false,true,true,true,false,false,false])
    for path in AttentionPath.allCases {
        let r = try scaledDotProductAttention(queries: q, keys: k, values: v, mask: .boolean(m), returning: [.logSumExp], options: .init(path: path, queryBlockSize: 1, keyBlockSize: 1))
        print(path, r.output.scalars, r.logSumExp!.scalars)
    }
    let x = try Tensor(shape: [3,2], scalars: [1,0,0.5,0.5,0,1])
    let s = try selfAttention(x, returningWeights: true)
    print(s.output.scalars, s.weights!.scalars, s.plan)
}
