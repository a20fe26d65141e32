extension GatewayConfiguration.Price {
    /// The price of a request (API.md §4): the first rule whose condition holds, else the base.
    public func price(for request: GenerationRequest) -> Money {
        rules.first { $0.condition.holds(for: request) }?.price ?? base
    }
}

extension GatewayConfiguration.PriceCondition {
    /// Whether the request meets this condition: `has` a non-empty field, or a field `equals` a
    /// value (defaults applied, so `{resolution: "1K"}` matches a request that left it out).
    public func holds(for request: GenerationRequest) -> Bool {
        switch self {
        case .has(let field): return request.has(field)
        case .equals(let field, let value): return request.value(of: field) == value
        }
    }
}
