package cli

// schemaCommands are the "schema" commands (ddl, docs) backed by the claims views in schemas/.
func schemaCommands() []*Command { return nil }
