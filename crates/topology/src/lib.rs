//! `cells.yaml`: the topology of one Cellwear deployment — the broker, the edge,
//! the control plane and every cell with its weight, state, endpoints and
//! MySQL/Redis/Kafka settings.
//!
//! [`Topology::load`] parses and checks the file once; every error names the
//! file, the cell and the field at fault. The edge seeds its routing table from
//! it, the control plane seeds its cell map from it, and `cargo xtask up` reads
//! it to know which processes to start on which ports.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use wire::{CellState, RoutedCell};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// Kafka bootstrap address (`host:port`).
    pub broker: String,
    pub edge: EdgeSettings,
    pub control_plane: ControlPlaneSettings,
    pub cells: Vec<CellSettings>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSettings {
    pub listen: SocketAddr,
    /// Where HTTPS is served (`cargo xtask up` makes a local certificate).
    #[serde(default)]
    pub tls_listen: Option<SocketAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlPlaneSettings {
    pub http: SocketAddr,
    pub mysql: String,
    pub redis: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellSettings {
    pub id: String,
    pub weight: u32,
    pub state: CellState,
    /// Where the cell's HTTP API listens.
    pub http: SocketAddr,
    /// `mysql://user@host:port/database` of the cell's own MySQL.
    pub mysql: String,
    /// `redis://host:port` of the cell's own Redis.
    pub redis: String,
    #[serde(default)]
    pub kafka: KafkaSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSettings {
    /// Partitions of each of the cell's topics.
    pub partitions: u16,
}

impl Default for KafkaSettings {
    fn default() -> Self {
        Self { partitions: 3 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("cannot read {origin}: {source}")]
    Read {
        origin: String,
        source: std::io::Error,
    },
    #[error("{origin}: {source}")]
    Syntax {
        origin: String,
        source: serde_yaml_ng::Error,
    },
    #[error("{origin}: {problem}")]
    Invalid { origin: String, problem: String },
}

/// Most cells one deployment describes; a typo such as `weight: 1000000` in a
/// count would otherwise start thousands of processes locally.
const MAX_CELLS: usize = 64;
const MAX_WEIGHT: u32 = 10_000;

impl Topology {
    pub fn load(path: &Path) -> Result<Self, TopologyError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Read {
            origin: origin.clone(),
            source,
        })?;
        Self::parse(&text, &origin)
    }

    /// Parses and checks a topology; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, TopologyError> {
        let topology: Topology =
            serde_yaml_ng::from_str(text).map_err(|source| TopologyError::Syntax {
                origin: origin.to_owned(),
                source,
            })?;
        topology.check().map_err(|problem| TopologyError::Invalid {
            origin: origin.to_owned(),
            problem,
        })?;
        Ok(topology)
    }

    /// The same topology as YAML (what `xtask up` hands the edge after
    /// trimming it to the cells it runs).
    pub fn to_yaml(&self) -> Result<String, serde_yaml_ng::Error> {
        serde_yaml_ng::to_string(self)
    }

    pub fn cell(&self, id: &str) -> Option<&CellSettings> {
        self.cells.iter().find(|cell| cell.id == id)
    }

    /// The cells as the placement function sees them.
    pub fn routed_cells(&self) -> Vec<RoutedCell> {
        self.cells
            .iter()
            .map(|cell| RoutedCell {
                id: cell.id.clone(),
                weight: cell.weight,
                state: cell.state,
            })
            .collect()
    }

    fn check(&self) -> Result<(), String> {
        check_host_port(&self.broker).map_err(|e| format!("field `broker`: {e}"))?;
        endpoint_port(&self.control_plane.mysql, "mysql")
            .map_err(|e| format!("control_plane: field `mysql`: {e}"))?;
        endpoint_port(&self.control_plane.redis, "redis")
            .map_err(|e| format!("control_plane: field `redis`: {e}"))?;
        if self.cells.is_empty() {
            return Err("field `cells`: lists no cell; a deployment needs at least one".into());
        }
        if self.cells.len() > MAX_CELLS {
            return Err(format!(
                "field `cells`: lists {} cells, at most {MAX_CELLS} are supported",
                self.cells.len()
            ));
        }
        let mut ids = HashSet::new();
        for cell in &self.cells {
            cell.check()
                .map_err(|e| format!("cell \"{}\": {e}", cell.id))?;
            if !ids.insert(cell.id.as_str()) {
                return Err(format!("cell \"{}\": field `id`: listed twice", cell.id));
            }
        }
        if !self
            .cells
            .iter()
            .any(|cell| cell.weight > 0 && cell.state.accepts_new_shoppers())
        {
            return Err("field `cells`: no cell is active with a weight above 0, so no new shopper could be placed".into());
        }
        self.check_ports_unique()
    }

    fn check_ports_unique(&self) -> Result<(), String> {
        let mut seen: Vec<(u16, String)> = vec![(self.edge.listen.port(), "edge.listen".into())];
        let mut claim = |port: u16, owner: String| match seen.iter().find(|(p, _)| *p == port) {
            Some((_, first)) => Err(format!("{owner}: port {port} is already used by {first}")),
            None => {
                seen.push((port, owner));
                Ok(())
            }
        };
        claim(self.control_plane.http.port(), "control_plane.http".into())?;
        for cell in &self.cells {
            claim(
                cell.http.port(),
                format!("cell \"{}\": field `http`", cell.id),
            )?;
        }
        Ok(())
    }
}

impl CellSettings {
    fn check(&self) -> Result<(), String> {
        check_cell_id(&self.id).map_err(|e| format!("field `id`: {e}"))?;
        if self.weight > MAX_WEIGHT {
            return Err(format!(
                "field `weight`: {} is above the maximum of {MAX_WEIGHT}",
                self.weight
            ));
        }
        endpoint_port(&self.mysql, "mysql").map_err(|e| format!("field `mysql`: {e}"))?;
        endpoint_port(&self.redis, "redis").map_err(|e| format!("field `redis`: {e}"))?;
        if self.kafka.partitions == 0 {
            return Err("field `kafka.partitions`: must be at least 1".into());
        }
        Ok(())
    }
}

/// A cell id is a short lowercase slug (`cell-0`, `eu-west-2`): it names Kafka
/// topics, database names and HTTP headers, so it must be safe in all three.
pub fn check_cell_id(id: &str) -> Result<(), String> {
    let well_formed = !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "\"{id}\" is not a cell id: use 1-32 characters of a-z, 0-9 and '-', not starting or ending with '-'"
        ))
    }
}

/// The port of a `scheme://[user@]host:port[/path]` endpoint, after checking
/// its scheme.
pub fn endpoint_port(endpoint: &str, scheme: &str) -> Result<u16, String> {
    let rest = endpoint
        .strip_prefix(scheme)
        .and_then(|rest| rest.strip_prefix("://"))
        .ok_or_else(|| format!("\"{endpoint}\" must start with {scheme}://"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    check_host_port(host_port).map_err(|e| format!("\"{endpoint}\": {e}"))
}

fn check_host_port(host_port: &str) -> Result<u16, String> {
    let (host, port) = host_port
        .rsplit_once(':')
        .ok_or_else(|| format!("\"{host_port}\" needs host:port"))?;
    if host.is_empty() {
        return Err(format!("\"{host_port}\" has no host"));
    }
    match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("\"{port}\" is not a port number (1-65535)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
broker: 127.0.0.1:19092
edge: { listen: "127.0.0.1:8080" }
control_plane:
  http: 127.0.0.1:9000
  mysql: mysql://root@127.0.0.1:13300/cellwear_control
  redis: redis://127.0.0.1:16300
cells:
  - id: cell-0
    weight: 100
    state: active
    http: 127.0.0.1:9100
    mysql: mysql://root@127.0.0.1:13310/cellwear_cell
    redis: redis://127.0.0.1:16310
  - id: cell-1
    weight: 100
    state: draining
    http: 127.0.0.1:9101
    mysql: mysql://root@127.0.0.1:13311/cellwear_cell
    redis: redis://127.0.0.1:16311
    kafka: { partitions: 6 }
"#;

    fn error_of(text: &str) -> String {
        Topology::parse(text, "cells.yaml").unwrap_err().to_string()
    }

    #[test]
    fn a_valid_topology_parses() {
        let topology = Topology::parse(VALID, "cells.yaml").unwrap();
        assert_eq!(topology.cells.len(), 2);
        assert_eq!(topology.cells[0].kafka.partitions, 3);
        assert_eq!(topology.cells[1].kafka.partitions, 6);
        assert_eq!(topology.cell("cell-1").unwrap().state, CellState::Draining);
        assert_eq!(topology.routed_cells()[0].id, "cell-0");
    }

    #[test]
    fn a_bad_field_is_named_with_its_cell() {
        let text = VALID.replace(
            "weight: 100\n    state: draining",
            "weight: 100\n    state: sleeping",
        );
        let error = error_of(&text);
        assert!(error.contains("cells[1].state"), "{error}");
        assert!(error.contains("sleeping"), "{error}");
    }

    #[test]
    fn an_unknown_key_is_rejected() {
        let error = error_of(&VALID.replace(
            "kafka: { partitions: 6 }",
            "kafka: { partitions: 6 }\n    colour: blue",
        ));
        assert!(error.contains("unknown field `colour`"), "{error}");
    }

    #[test]
    fn a_duplicate_cell_id_is_rejected() {
        let error = error_of(&VALID.replace("id: cell-1", "id: cell-0"));
        assert!(
            error.contains("cell \"cell-0\": field `id`: listed twice"),
            "{error}"
        );
    }

    #[test]
    fn a_malformed_endpoint_names_cell_and_field() {
        let error = error_of(&VALID.replace("redis://127.0.0.1:16311", "127.0.0.1:16311"));
        assert_eq!(
            error,
            "cells.yaml: cell \"cell-1\": field `redis`: \"127.0.0.1:16311\" must start with redis://"
        );
    }

    #[test]
    fn an_unsafe_cell_id_is_rejected() {
        let error = error_of(&VALID.replace("id: cell-1", "id: Cell_1"));
        assert!(error.contains("field `id`"), "{error}");
    }

    #[test]
    fn two_cells_on_one_port_are_rejected() {
        let error = error_of(&VALID.replace("http: 127.0.0.1:9101", "http: 127.0.0.1:9100"));
        assert!(
            error.contains("port 9100 is already used by cell \"cell-0\""),
            "{error}"
        );
    }

    #[test]
    fn a_topology_without_an_active_cell_is_rejected() {
        let error = error_of(&VALID.replace("state: active", "state: failed"));
        assert!(error.contains("no cell is active"), "{error}");
    }

    #[test]
    fn yaml_syntax_errors_say_where() {
        let error = error_of("cells: [");
        assert!(error.starts_with("cells.yaml: "), "{error}");
        assert!(error.contains("line"), "{error}");
    }

    #[test]
    fn a_topology_survives_a_round_trip_through_yaml() {
        let topology = Topology::parse(VALID, "cells.yaml").unwrap();
        let again = Topology::parse(&topology.to_yaml().unwrap(), "again").unwrap();
        assert_eq!(again, topology);
    }

    #[test]
    fn endpoint_port_reads_user_host_port_and_path() {
        assert_eq!(
            endpoint_port("mysql://root@127.0.0.1:13310/db", "mysql"),
            Ok(13310)
        );
        assert_eq!(endpoint_port("redis://127.0.0.1:6379", "redis"), Ok(6379));
        assert!(endpoint_port("redis://127.0.0.1", "redis").is_err());
        assert!(endpoint_port("redis://127.0.0.1:0", "redis").is_err());
    }
}
