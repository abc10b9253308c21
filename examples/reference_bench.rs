//! Throughput of the reference provider end to end vs raw openmls.
//! `cargo run --release --example reference_bench [messages]`

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(500);
    let r = mimi_interop::reference::bench::run(n).await?;
    println!("messages:           {}", r.messages);
    println!(
        "end to end:         {:>10.1} msg/s ({:?})",
        r.end_to_end_per_second(),
        r.end_to_end
    );
    println!(
        "raw openmls:        {:>10.1} msg/s ({:?})",
        r.raw_per_second(),
        r.raw_openmls
    );
    Ok(())
}
