enum GatewayAppPlaceholder {}
