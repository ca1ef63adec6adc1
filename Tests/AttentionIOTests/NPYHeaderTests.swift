import Testing
@testable import AttentionIO
