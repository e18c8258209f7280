//! `cargo run -p sandbox [-- --port N]`: serve every provider on 127.0.0.1 until Ctrl-C.
//! `-- --print-konvert-schema` prints Konvert's GraphQL SDL and exits.

use std::process::ExitCode;

use sandbox::{Provider, Sandbox};

fn port_from_args() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut port = 0u16;
    while let Some(a) = args.next() {
        let value = match a.as_str() {
            "--port" | "-p" => args.next().ok_or("--port needs a value")?,
            s if s.starts_with("--port=") => s.trim_start_matches("--port=").to_owned(),
            "--print-konvert-schema" => {
                println!("{}", sandbox::konvert::schema_sdl());
                std::process::exit(0);
            }
            "--help" | "-h" => {
                return Err(
                    "usage: sandbox [--port N] [--print-konvert-schema]   (binds 127.0.0.1)"
                        .to_owned(),
                );
            }
            other => return Err(format!("unknown argument {other}")),
        };
        port = value.parse().map_err(|_| format!("invalid port {value}"))?;
    }
    Ok(port)
}

#[tokio::main]
async fn main() -> ExitCode {
    let port = match port_from_args() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let sb = match Sandbox::start_on_port(port).await {
        Ok(sb) => sb,
        Err(e) => {
            eprintln!("sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    let c = sb.credentials();
    println!("sandbox listening on {}", sb.base_url());
    for p in Provider::ALL {
        println!("  {:<9} {}", p.name(), sb.url(p));
    }
    println!("controls  {}/_sandbox/...", sb.base_url());
    println!("\ntest credentials (fixed, sandbox only):");
    println!("  redirect_uri           {}", c.redirect_uri);
    println!("  konpro.client_id       {}", c.konpro.client_id);
    println!("  konpro.api_key         {}", c.konpro.api_key);
    println!("  askara.client_id       {}", c.askara.client_id);
    println!("  askara.client_secret   {}", c.askara.client_secret);
    println!("  kustomer.api_key       {}", c.kustomer.api_key);
    println!("  kustomer.org_id        {}", c.kustomer.org_id);
    println!("  konvert.api_key        {}", c.konvert.api_key);
    println!("  konvert.api_secret     {}", c.konvert.api_secret);
    println!("\nCtrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    sb.shutdown().await;
    ExitCode::SUCCESS
}
