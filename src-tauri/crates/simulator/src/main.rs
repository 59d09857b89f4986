//! `simulator`: runs the HubSpot + Didomi simulator and prints one JSON line when ready.
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let sim = dhs_simulator::start(dhs_simulator::Config::default()).await?;
    println!("{}", serde_json::to_string(&sim.info).expect("info serializes"));
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
