import Testing
@testable import HTTPServer

@Suite("ConnectionStateMachine")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine<ManualClock>

    let clock = ManualClock()

    func makeMachine(header: Duration = .seconds(10), idle: Duration = .seconds(60), maxBuffered: Int = 1 << 20) -> Machine {
        Machine(
            configuration: .init(headerTimeout: header, idleTimeout: idle, maxBufferedBytes: maxBuffered),
            limits: HTTPParserLimits(), renderError: plainTextErrorRenderer, now: clock.now)
    }

    func feed(_ machine: inout Machine, _ text: String) -> [Machine.Action] {
        Array(text.utf8).withUnsafeBytes { machine.bytesReceived($0, now: clock.now) }
    }

    func summary(_ actions: [Machine.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .send(let bytes): return "send \(String(decoding: bytes.prefix(12), as: UTF8.self))"
            case .handle(let request): return "handle \(request.head.target)"
            case .pauseReading: return "pause"
            case .resumeReading: return "resume"
            case .close(let mode): return "close \(mode)"
            }
        }
    }

    @Test func machine_NextPipelinedRequestWaitsForTheAnswerBeforeIt() {
        var machine = makeMachine()
        #expect(summary(feed(&machine, "GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n")) == ["handle /a"])
        // Nothing for /b until /a is answered and written.
        let afterA = machine.handlerFinished(HTTPResponse(status: 200), now: clock.now)
        #expect(summary(afterA) == ["send HTTP/1.1 200", "handle /b"])
    }

    @Test func machine_NextRequestWaitsWhileTheAnswerIsStillBeingWritten() {
        var machine = makeMachine()
        _ = feed(&machine, "GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = machine.writeStateChanged(pending: true, now: clock.now)
        #expect(summary(machine.handlerFinished(HTTPResponse(status: 200), now: clock.now)) == ["send HTTP/1.1 200"])
        #expect(summary(machine.writeStateChanged(pending: false, now: clock.now)) == ["handle /b"])
    }

    @Test func machine_HalfHeadTimesOutWith408FromItsFirstByte() {
        var machine = makeMachine(header: .seconds(10), idle: .seconds(60))
        _ = feed(&machine, "GET /a HTTP/1.1\r\n")
        clock.advance(by: .seconds(9))
        _ = feed(&machine, "Host: t\r\n")  // activity does not extend the head deadline
        #expect(machine.timerFired(now: clock.now).isEmpty)
        clock.advance(by: .seconds(1))
        let actions = summary(machine.timerFired(now: clock.now))
        #expect(actions == ["send HTTP/1.1 408", "close afterFlush(linger: true)"])
    }

    @Test func machine_NeverUsedConnectionGetsTheHeaderTimeoutThenQuietClose() {
        var machine = makeMachine(header: .seconds(10), idle: .seconds(60))
        #expect(machine.deadline == clock.now.advanced(by: .seconds(10)))
        clock.advance(by: .seconds(10))
        #expect(summary(machine.timerFired(now: clock.now)) == ["close afterFlush(linger: false)"])
    }

    @Test func machine_KeptAliveConnectionGetsTheIdleTimeout() {
        var machine = makeMachine(header: .seconds(10), idle: .seconds(60))
        _ = feed(&machine, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(machine.deadline == nil)  // no deadline while the handler runs
        clock.advance(by: .seconds(100))
        _ = machine.handlerFinished(HTTPResponse(status: 200), now: clock.now)
        #expect(machine.deadline == clock.now.advanced(by: .seconds(60)))
        clock.advance(by: .seconds(59))
        #expect(machine.timerFired(now: clock.now).isEmpty)
        clock.advance(by: .seconds(1))
        #expect(summary(machine.timerFired(now: clock.now)) == ["close afterFlush(linger: false)"])
    }

    @Test func machine_StalledBodyTimesOutWith408() {
        var machine = makeMachine(header: .seconds(10), idle: .seconds(5))
        _ = feed(&machine, "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234")
        clock.advance(by: .seconds(5))
        #expect(summary(machine.timerFired(now: clock.now)).first == "send HTTP/1.1 408")
    }

    @Test func machine_PeerThatStopsReadingIsClosed() {
        var machine = makeMachine(idle: .seconds(5))
        _ = feed(&machine, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
        _ = machine.writeStateChanged(pending: true, now: clock.now)
        _ = machine.handlerFinished(HTTPResponse(status: 200), now: clock.now)
        clock.advance(by: .seconds(5))
        #expect(summary(machine.timerFired(now: clock.now)) == ["close now"])
    }

    @Test func machine_ClosingConnectionWhosePeerStopsReadingIsStillClosed() {
        // `Connection: close`: the answer is the last, and the peer never reads it.
        var machine = makeMachine(idle: .seconds(5))
        _ = feed(&machine, "GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        _ = machine.writeStateChanged(pending: true, now: clock.now)
        _ = machine.handlerFinished(HTTPResponse(status: 200), now: clock.now)
        #expect(machine.deadline != nil)
        clock.advance(by: .seconds(5))
        #expect(summary(machine.timerFired(now: clock.now)) == ["close now"])
    }

    @Test func machine_ShutdownClosesIdleAtOnceAndBusyAfterTheAnswer() {
        var idle = makeMachine()
        #expect(summary(idle.beginShutdown(now: clock.now)) == ["close afterFlush(linger: false)"])

        var busy = makeMachine()
        _ = feed(&busy, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(busy.beginShutdown(now: clock.now).isEmpty)
        let actions = busy.handlerFinished(HTTPResponse(status: 200), now: clock.now)
        guard case .send(let bytes) = actions.first else { Issue.record("expected the answer"); return }
        #expect(String(decoding: bytes, as: UTF8.self).contains("Connection: close\r\n"))
        #expect(summary(actions).last == "close afterFlush(linger: false)")
    }

    @Test func machine_PausesReadingWhenTooMuchIsBufferedBehindAHandler() {
        var machine = makeMachine(maxBuffered: 64)
        _ = feed(&machine, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(summary(feed(&machine, String(repeating: "GET /b HTTP/1.1\r\nHost: t\r\n\r\n", count: 4))) == ["pause"])
        let actions = summary(machine.handlerFinished(HTTPResponse(status: 200), now: clock.now))
        #expect(actions == ["send HTTP/1.1 200", "handle /b"])
        // The rest is still buffered behind /b's handler, above the threshold: still paused.
        #expect(machine.parser.bufferedByteCount > 64)
    }

    @Test func machine_EndOfInputAfterAFullRequestStillAnswersIt() {
        var machine = makeMachine()
        _ = feed(&machine, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(machine.endOfInput(now: clock.now).isEmpty)
        let actions = machine.handlerFinished(HTTPResponse(status: 200), now: clock.now)
        guard case .send(let bytes) = actions.first else { Issue.record("expected the answer"); return }
        #expect(String(decoding: bytes, as: UTF8.self).contains("Connection: close\r\n"))
    }

    @Test func machine_ParseErrorAnswersRenderedErrorAndLingers() {
        var machine = makeMachine()
        let actions = summary(feed(&machine, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"))
        #expect(actions == ["send HTTP/1.1 400", "close afterFlush(linger: true)"])
    }

    @Test func machine_ExpectContinueOnlyBeforeTheBodyArrives() {
        var waiting = makeMachine()
        let first = summary(feed(&waiting, "POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"))
        #expect(first == ["send HTTP/1.1 100"])
        var eager = makeMachine()
        let second = summary(feed(&eager, "POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok"))
        #expect(second == ["handle /"])
    }
}
