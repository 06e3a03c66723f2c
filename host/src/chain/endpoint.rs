//! Endpoints by the names bittensor users know (`finney`, `test`, `local`, `archive`) or
//! by a ws/wss URL. An http/https URL is refused with the WebSocket URL to use instead:
//! the client speaks JSON-RPC over a WebSocket only (finalized-head subscriptions, many
//! reads per block on one connection), and Subtensor nodes serve both on the same port.

use super::ChainError;

/// The public endpoints, as bittensor's `--subtensor.network` names them.
pub const NETWORKS: &[(&str, &str)] = &[
    ("finney", "wss://entrypoint-finney.opentensor.ai:443"),
    ("test", "wss://test.finney.opentensor.ai:443"),
    ("local", "ws://127.0.0.1:9944"),
    ("archive", "wss://archive.chain.opentensor.ai:443"),
];

/// Resolves a network name or URL to a URL: `--subtensor.chain_endpoint` wins over
/// `--subtensor.network`.
pub fn resolve(network: Option<&str>, endpoint: Option<&str>) -> Result<String, ChainError> {
    if let Some(url) = endpoint {
        return check_url(url);
    }
    let name = network.unwrap_or("finney");
    if let Some((_, url)) = NETWORKS.iter().find(|(n, _)| *n == name) {
        return Ok(url.to_string());
    }
    if name.contains("://") {
        return check_url(name);
    }
    Err(ChainError::BadEndpoint(format!(
        "unknown network {name:?}: use one of {} or a ws:// / wss:// URL",
        NETWORKS
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

fn check_url(url: &str) -> Result<String, ChainError> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        ChainError::BadEndpoint(format!(
            "{url:?} is not a URL (expected ws://host:port or wss://host:port)"
        ))
    })?;
    if let Some(ws) = match scheme {
        "http" => Some("ws"),
        "https" => Some("wss"),
        _ => None,
    } {
        return Err(ChainError::BadEndpoint(format!(
            "{url:?} is an HTTP endpoint: the tracker needs the node's WebSocket endpoint \
             (it subscribes to finalized blocks); use {ws}://{rest} instead (Subtensor nodes \
             serve WebSocket and HTTP on the same port)"
        )));
    }
    if !matches!(scheme, "ws" | "wss") {
        return Err(ChainError::BadEndpoint(format!(
            "{url:?}: scheme {scheme:?} is not supported (use ws:// or wss://)"
        )));
    }
    let host = rest.split(['/', '?']).next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(ChainError::BadEndpoint(format!("{url:?} has no host")));
    }
    if let Some((_, port)) = host.rsplit_once(':')
        && !host.ends_with(']')
        && port.parse::<u16>().is_err()
    {
        return Err(ChainError::BadEndpoint(format!(
            "{url:?}: port {port:?} is not a number"
        )));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_urls() {
        assert_eq!(resolve(Some("local"), None).unwrap(), "ws://127.0.0.1:9944");
        assert_eq!(
            resolve(Some("archive"), None).unwrap(),
            "wss://archive.chain.opentensor.ai:443"
        );
        assert_eq!(
            resolve(None, None).unwrap(),
            "wss://entrypoint-finney.opentensor.ai:443"
        );
        assert_eq!(
            resolve(Some("finney"), Some("ws://10.0.0.1:9944")).unwrap(),
            "ws://10.0.0.1:9944"
        );
        assert_eq!(resolve(Some("ws://h:1"), None).unwrap(), "ws://h:1");
        let e = resolve(Some("mainnet"), None).unwrap_err().to_string();
        assert!(
            e.contains("unknown network \"mainnet\"") && e.contains("finney"),
            "{e}"
        );
        let e = resolve(None, Some("ftp://x")).unwrap_err().to_string();
        assert!(e.contains("scheme \"ftp\""), "{e}");
        let e = resolve(None, Some("ws://host:port"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("port \"port\""), "{e}");
        assert!(resolve(None, Some("localhost")).is_err());
        // HTTP is refused with the WebSocket URL to use instead.
        let e = resolve(None, Some("http://10.0.0.1:9944"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("use ws://10.0.0.1:9944"), "{e}");
        let e = resolve(Some("https://node.example:443/rpc"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("use wss://node.example:443/rpc"), "{e}");
    }
}
