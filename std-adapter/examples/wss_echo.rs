//! `wss:` with rustls: the tokio helpers take any TLS stream. This example makes a self-signed
//! certificate, serves a TLS echo WebSocket on 127.0.0.1, connects to it with a client that trusts that
//! certificate, exchanges a few messages and closes.
//! `cargo run -p websocket-driver-std --features tokio --example wss_echo`
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use websocket_driver_std::tokio::{Item, accept, connect};
use websocket_driver_std::{Message, Options, PermessageDeflate};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());

    let server_config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)?;
    let acceptor = TlsAcceptor::from(Arc::new(server_config));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let tls = acceptor.accept(tcp).await?;
        let mut ws = accept(tls, Options::new().secure(true), |d| {
            d.add_extension(Box::new(PermessageDeflate::new()));
        })
        .await?;
        while let Some(item) = ws.next().await {
            if let Item::Message(message) = item? {
                ws.send(message).await?;
            }
        }
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    });

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert)?;
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let tls = TlsConnector::from(Arc::new(client_config))
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    let url = format!("wss://localhost:{port}/echo");
    let mut ws = connect(tls, &url, Options::new(), |d| {
        d.add_extension(Box::new(PermessageDeflate::new()));
    })
    .await?;
    for text in ["hello over TLS", "ünïcödé", ""] {
        ws.send(Message::Text(text.into())).await?;
        let echo = ws.next().await.ok_or("closed early")??;
        println!("echo: {echo:?}");
        assert_eq!(echo, Item::Message(Message::Text(text.into())));
    }
    let closed = ws.close(1000, "done").await?;
    println!("closed: {closed:?}");
    server.await?.map_err(|e| e.to_string())?;
    Ok(())
}
