import Foundation
@testable import Providers
import Testing

@Suite struct HTTPTransportRetryAfterTests {
    @Test func retryAfter_DelaySecondsAndDates() {
        #expect(HTTPTransport.retryAfterSeconds(nil) == nil)
        #expect(HTTPTransport.retryAfterSeconds("") == nil)
        #expect(HTTPTransport.retryAfterSeconds("soon") == nil)
        #expect(HTTPTransport.retryAfterSeconds("-3") == nil)
        #expect(HTTPTransport.retryAfterSeconds(" 12 ") == 12)
        #expect(HTTPTransport.retryAfterSeconds("0") == 1)
        #expect(HTTPTransport.retryAfterSeconds("86400") == 3600)
        #expect(HTTPTransport.retryAfterSeconds("99999999999999999999999") == 3600)
        let now = Date(timeIntervalSince1970: 784_111_777)
        #expect(HTTPTransport.retryAfterSeconds("Sun, 06 Nov 1994 08:50:07 GMT", now: now) == 30)
        #expect(HTTPTransport.retryAfterSeconds("Sun, 06 Nov 1994 08:49:00 GMT", now: now) == 1)
        #expect(HTTPTransport.retryAfterSeconds("Sunday, 06-Nov-94 08:49:37 GMT", now: now) == nil)
    }


    @Test func imfFixdate_IsExact() {
        #expect(HTTPTransport.imfFixdate("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPTransport.imfFixdate("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPTransport.imfFixdate("Sat, 29 Feb 2025 00:00:00 GMT") != nil)  // day range only, like most parsers
        #expect(HTTPTransport.imfFixdate("Sun, 06 Nov 1994 25:49:37 GMT") == nil)
        #expect(HTTPTransport.imfFixdate("Sun, 06 Nov 1994 08:49:37 UTC") == nil)
    }
}
