//! Compiles `proto/legate_rpc.proto` with protox (pure Rust, no `protoc`) and generates the
//! prost messages plus tonic client and server stubs from the resulting descriptor set.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/legate_rpc.proto";
    println!("cargo:rerun-if-changed={proto}");
    let fds = protox::compile([proto], ["proto"])?;
    tonic_prost_build::configure()
        .build_transport(false)
        .compile_fds(fds)?;
    Ok(())
}
