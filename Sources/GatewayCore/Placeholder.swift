// The gateway vocabulary; filled in by the configuration work.
