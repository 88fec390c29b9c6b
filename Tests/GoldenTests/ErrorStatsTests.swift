import Testing
import Golden

struct ErrorStatsTests {
    @Test("hand-computed example: errors 0.5, 0, -1, 0")
    func example() {
        let s = ErrorStats(reference: [1, 2, 3, 4], actual: [1.5, 2, 2, 4])
        #expect(s.count == 4)
        #expect(s.maxAbsError == 1)
        #expect(s.meanError == -0.125)                               // -0.5 / 4
        #expect(abs(s.rmse - 0.5590169943749474) < 1e-12)            // sqrt(1.25 / 4)
        #expect(abs(s.sqnrDB - 13.802112417116060) < 1e-9)           // 10 log10(30 / 1.25)
    }

    @Test("no error gives SQNR +infinity and zero error figures")
    func exact() {
        let s = ErrorStats(reference: [1, -2, 0.5], actual: [1, -2, 0.5])
        #expect(s.sqnrDB == .infinity)
        #expect(s.rmse == 0 && s.maxAbsError == 0 && s.meanError == 0)
    }
}
