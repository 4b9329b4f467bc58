"""Event sources that call functions: HTTP endpoints (function URLs; HTTP APIs to come), and the
shared shapes of their events. Each calls editor.services, as the studio and the AWS API do."""
