package cli

// adminCommands are the DPC client-surface commands (keys, tokens, jwt, org, practitioners,
// patients, groups, roster).
func adminCommands() []*Command { return nil }
