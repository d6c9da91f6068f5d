//! What the Prometheus exporter costs, and whether a slow or dead remote-write endpoint
//! slows the load: `cargo bench --bench prometheus` (release profile). docs/metrics.md
//! records the figures measured.
//!
//! 1. Per frame of 50 request names with dense latency histograms (200,000 samples each,
//!    log-normal body and a slow tail): `publish` (HDR → native and classic buckets), the
//!    remote-write body (protobuf + snappy) and its size per schema, the text and protobuf
//!    scrape bodies.
//! 2. A CPU-bound stand-in for virtual users (one task per core recording samples into HDR
//!    histograms as fast as it can) while a snapshot task publishes a frame every 100 ms (ten
//!    times a real session's rate) to: no exporter, a receiver that accepts, a port that
//!    refuses, a receiver that never answers. Samples per second are compared; the hand-over
//!    (`publish`) time is reported. On a shared machine the throughput is noisy, hence:
//! 3. The same four cases without users: the CPU time the process uses per second (from
//!    /proc/self/stat, Linux, 10 ms ticks), i.e. what the exporter itself costs per case.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kload::export::prometheus::{
    Exporter, Exposition, MetricsFrame, RemoteUrl, RemoteWriteConfig, RequestSeries, common_labels,
    protobuf, remote_write, text,
};
use kload::metrics::LatencyHistogram;

const NAMES: usize = 50;
const SAMPLES: usize = 200_000;
const RUNS: usize = 21;
const LOAD_SECONDS: u64 = 2;
const ROUNDS: usize = 3;

/// xorshift64*: a fixed pseudo-random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A latency in µs: log-normal around 20 ms, 1 % between 1 and 3 s.
    fn latency_us(&mut self) -> u64 {
        if self.next().is_multiple_of(100) {
            return 1_000_000 + self.next() % 2_000_000;
        }
        // Box-Muller.
        let z = (-2.0 * self.unit().max(1e-12).ln()).sqrt()
            * (2.0 * std::f64::consts::PI * self.unit()).cos();
        (20_000.0 * (0.8 * z).exp()) as u64
    }
}

struct Data {
    labels: Vec<(String, String)>,
    names: Vec<String>,
    histograms: Vec<LatencyHistogram>,
}

impl Data {
    fn new() -> Data {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let histograms = (0..NAMES)
            .map(|_| {
                let mut h = LatencyHistogram::new();
                for _ in 0..SAMPLES {
                    h.record(rng.latency_us());
                }
                h
            })
            .collect();
        Data {
            labels: common_labels("bench", "Bench", "0/1", &[]),
            names: (0..NAMES)
                .map(|i| format!("/api/v1/endpoint{i}/"))
                .collect(),
            histograms,
        }
    }

    fn frame(&self) -> MetricsFrame<'_> {
        MetricsFrame {
            labels: &self.labels,
            requests: self
                .names
                .iter()
                .zip(&self.histograms)
                .map(|(name, h)| RequestSeries {
                    name,
                    method: "GET",
                    statuses: vec![(200, h.len() - 10), (500, 10)],
                    failures: vec![(kload::metrics::FailureKind::Http5xx, 10)],
                    latency: h,
                    latency_sum_us: None,
                    corrected_latency: None,
                })
                .collect(),
            users: vec![("Browser", 100), ("Admin", 10)],
            dropped_iterations: 0,
            lateness: None,
            thresholds: vec![("p95 < 200ms", true)],
            timestamp_ms: 1_764_244_800_000,
        }
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn time<T>(f: impl Fn() -> T) -> Duration {
    median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

fn costs(data: &Data) {
    let frame = data.frame();
    println!("Per frame: {NAMES} request names, {SAMPLES} samples each (median of {RUNS} runs)");
    for schema in [3, 5, 8] {
        let collect = time(|| Exposition::collect(&frame, schema));
        let e = Exposition::collect(&frame, schema);
        let raw = remote_write::encode(&e, 0);
        let body = remote_write::body(&e, 0);
        let encode = time(|| remote_write::body(&e, 0));
        println!(
            "  schema {schema}: publish (collect) {collect:>9.2?}, remote-write body {encode:>9.2?}: \
             {} B protobuf, {} B snappy ({:.2} KB per name)",
            raw.len(),
            body.len(),
            body.len() as f64 / NAMES as f64 / 1000.0
        );
    }
    let e = Exposition::collect(&frame, 5);
    let t = time(|| text::render(&e));
    let p = time(|| protobuf::render(&e));
    println!(
        "  scrape bodies (schema 5): text {t:.2?} ({} B), protobuf {p:.2?} ({} B)",
        text::render(&e).len(),
        protobuf::render(&e).len()
    );
}

#[derive(Clone, Copy, Debug)]
enum Endpoint {
    None,
    Accepting,
    Refusing,
    Stalled,
}

async fn receiver(stall: bool) -> SocketAddr {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/api/v1/write",
        post(move |_body: axum::body::Bytes| async move {
            if stall {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            axum::http::StatusCode::NO_CONTENT
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// CPU time used by this process so far (all threads, user + system), from
/// /proc/self/stat in clock ticks of 10 ms (Linux).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 counted from the state.
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

/// With `users`: samples per second recorded by the stand-in users. Without: the CPU the
/// process used per second (the exporter's own cost). Plus the publish times and the
/// pusher's final line.
fn load(endpoint: Endpoint, data: &Arc<Data>, users: bool) -> (f64, Vec<Duration>, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let exporter = match endpoint {
            Endpoint::None => None,
            other => {
                let addr = match other {
                    Endpoint::Accepting => receiver(false).await,
                    Endpoint::Stalled => receiver(true).await,
                    _ => std::net::TcpListener::bind("127.0.0.1:0")
                        .unwrap()
                        .local_addr()
                        .unwrap(),
                };
                let url = RemoteUrl::parse(&format!("http://{addr}/api/v1/write")).unwrap();
                let mut config = RemoteWriteConfig::new(url);
                config.interval = Duration::from_millis(500);
                config.timeout = Duration::from_secs(2);
                config.final_timeout = Duration::from_secs(1);
                Some(Exporter::with_remote_write(config, 5).unwrap())
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let recorded = Arc::new(AtomicU64::new(0));
        let cpu_before = process_cpu();
        let tasks: Vec<_> = (0..if users { 2 } else { 0 })
            .map(|seed| {
                let stop = stop.clone();
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let mut rng = Rng(seed + 1);
                    let mut h = LatencyHistogram::new();
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..1_000 {
                            h.record(rng.latency_us());
                        }
                        recorded.fetch_add(1_000, Ordering::Relaxed);
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let start = Instant::now();
        let mut publish_times = Vec::new();
        while start.elapsed() < Duration::from_secs(LOAD_SECONDS) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Some(e) = &exporter {
                let t = Instant::now();
                e.publish(&data.frame());
                publish_times.push(t.elapsed());
            }
        }
        stop.store(true, Ordering::Relaxed);
        let elapsed = start.elapsed();
        for t in tasks {
            t.await.unwrap();
        }
        let rate = if users {
            recorded.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64()
        } else {
            (process_cpu() - cpu_before).as_secs_f64() * 1000.0 / elapsed.as_secs_f64()
        };
        let stats = match exporter {
            Some(e) => e
                .finish(&data.frame())
                .await
                .remote_write
                .map(|s| s.to_string())
                .unwrap_or_default(),
            None => String::new(),
        };
        (rate, publish_times, stats)
    })
}

fn main() {
    let data = Arc::new(Data::new());
    costs(&data);
    println!(
        "\nStand-in users (2 tasks recording into HDR), {ROUNDS} rounds of {LOAD_SECONDS} s per case \
         (cases interleaved), a frame published every 100 ms:"
    );
    let cases = [
        Endpoint::None,
        Endpoint::Accepting,
        Endpoint::Refusing,
        Endpoint::Stalled,
    ];
    let mut rates = vec![Vec::new(); cases.len()];
    let mut publishes = vec![Vec::new(); cases.len()];
    let mut last_stats = vec![String::new(); cases.len()];
    for _ in 0..ROUNDS {
        for (i, &endpoint) in cases.iter().enumerate() {
            let (rate, times, stats) = load(endpoint, &data, true);
            rates[i].push(rate);
            publishes[i].extend(times);
            last_stats[i] = stats;
        }
    }
    let median_rate = |r: &[f64]| {
        let mut r = r.to_vec();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    let base = median_rate(&rates[0]);
    for (i, endpoint) in cases.iter().enumerate() {
        let rate = median_rate(&rates[i]);
        let spread = rates[i]
            .iter()
            .fold((f64::MAX, 0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        let publish = if publishes[i].is_empty() {
            String::new()
        } else {
            let max = publishes[i].iter().max().copied().unwrap_or_default();
            format!(
                ", publish median {:.2?} max {max:.2?}",
                median(publishes[i].clone())
            )
        };
        println!(
            "  {:<10} {:>6.2} M samples/s (rounds {:.2}-{:.2}; {:+.1} % vs no exporter){publish}",
            format!("{endpoint:?}"),
            rate / 1e6,
            spread.0 / 1e6,
            spread.1 / 1e6,
            (rate / base - 1.0) * 100.0
        );
        if !last_stats[i].is_empty() {
            println!("             last round: {}", last_stats[i]);
        }
    }
    println!(
        "\nThe exporter alone (no users), CPU time of the whole process per second, median of \
         {ROUNDS} rounds of {LOAD_SECONDS} s, a frame published every 100 ms:"
    );
    for endpoint in cases {
        let cpu: Vec<f64> = (0..ROUNDS)
            .map(|_| load(endpoint, &data, false).0)
            .collect();
        println!(
            "  {:<10} {:>5.0} ms/s",
            format!("{endpoint:?}"),
            median_rate(&cpu)
        );
    }
}
