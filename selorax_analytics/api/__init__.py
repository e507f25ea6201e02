"""The SeloraX Apps API v1 client: credentials, transport (retries, pacing, the one
status-to-exception table), request parameters and page walks."""
