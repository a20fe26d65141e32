/// The gateway's version, sent as `User-Agent: krea-gateway/<version>` on webhooks.
public enum GatewayVersion {
    public static let current = "0.1.0"
}
