import HTTPServer

/// Answers both simulators give alike.
enum SimulatedAnswers {
    /// `[sim:garbage]`: a 200 labelled JSON whose body is not JSON (an HTML page from a proxy).
    static let garbage = HTTPResponse(
        status: 200, headers: ["Content-Type": "application/json"], body: "<html><body>502 upstream hiccup</body></html>")
}
