extension APIError {
    /// An error read back from its own JSON body (`jsonBody`), as a stored idempotent answer holds
    /// it. A body that is not one keeps `status` and gets a generic code and message.
    public init(decodingStored body: String, status: Int) {
        let error = (try? JSONParser.parse(Array(body.utf8)))?["error"]
        let kind = error?["type"]?.stringValue.flatMap(Kind.init(rawValue:)) ?? APIError.kind(forStatus: status)
        self.init(
            status: status, kind: kind, code: error?["code"]?.stringValue ?? "error",
            message: error?["message"]?.stringValue ?? "the request was refused", param: error?["param"]?.stringValue)
    }
}
