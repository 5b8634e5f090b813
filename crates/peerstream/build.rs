//! Compiles `proto/peerstream.proto` with protox (pure Rust, no `protoc`) and generates the prost
//! messages plus the tonic client and server stubs of the `PeerStream` service.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/peerstream.proto";
    println!("cargo:rerun-if-changed={proto}");
    let fds = protox::compile([proto], ["proto"])?;
    tonic_prost_build::configure()
        .build_transport(false)
        .compile_fds(fds)?;
    Ok(())
}
