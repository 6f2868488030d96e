import Foundation
import SamenplanDomain
import Testing

/// `UUID.random()`: the ids of cases, families and events.
struct RandomUUIDTests {
    @Test func everyIdIsAVersion4UUIDOfTheRFCVariant() {
        for _ in 0..<1000 {
            let text = UUID.random().uuidString
            let characters = Array(text)
            #expect(characters[14] == "4", "\(text)")
            #expect("89AB".contains(characters[19]), "\(text)")
            // What was forced is the only thing forced: the id still reads back as itself.
            #expect(UUID(uuidString: text)?.uuidString == text)
        }
    }

    @Test func idsDoNotRepeatAndUseAllTheirRandomBits() {
        let ids = (0..<20_000).map { _ in UUID.random() }
        #expect(Set(ids).count == ids.count)
        // Each of the 122 random bits is set in some ids and clear in others.
        var ones = [Int](repeating: 0, count: 128)
        for id in ids {
            withUnsafeBytes(of: id.uuid) { raw in
                for bit in 0..<128 where raw[bit / 8] & (0x80 >> (bit % 8)) != 0 { ones[bit] += 1 }
            }
        }
        let forced: Set<Int> = [48, 49, 50, 51, 64, 65]  // version 0100, variant 10
        for bit in 0..<128 where !forced.contains(bit) {
            #expect((8_000...12_000).contains(ones[bit]), "bit \(bit) set in \(ones[bit]) of 20,000")
        }
        #expect(forced.sorted().map { ones[$0] } == [0, 20_000, 0, 0, 20_000, 0])
    }
}
