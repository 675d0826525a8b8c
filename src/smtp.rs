//! The SMTP delivery agent: hands one message to a mail server with lettre and classifies the
//! server's reply as an [`Attempt`]. TLS is required except to this machine.

use crate::config::{SmtpConfig, Tls};
use crate::error::{Error, Result};
use crate::mail::{Attempt, Transport};

/// Sends through an SMTP server with lettre.
pub(crate) struct Smtp {
    transport: lettre::SmtpTransport,
}

impl Smtp {
    /// Connects lazily to the configured server; the password comes from the environment.
    pub(crate) fn new(config: &SmtpConfig) -> Result<Self> {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Tls as LTls, TlsParameters};
        let tls = || {
            TlsParameters::new(config.host.clone()).map_err(|e| {
                Error::Usage(format!("TLS til {} kan ikke sættes op: {e}", config.host))
            })
        };
        let tls = match config.tls {
            Tls::Tls => LTls::Wrapper(tls()?),
            Tls::Starttls => LTls::Required(tls()?),
            Tls::None => LTls::None,
        };
        let mut builder = lettre::SmtpTransport::builder_dangerous(&config.host)
            .tls(tls)
            .port(config.port)
            .timeout(Some(std::time::Duration::from_secs(config.timeout_secs)));
        if let (Some(user), Some(var)) = (&config.user, &config.password_env) {
            let password = std::env::var(var).map_err(|_| Error::Invalid {
                report: format!("council.toml: fejl: miljøvariablen {var} med SMTP-adgangskoden er ikke sat, så intet kan sendes\n  hjælp: sæt {var} i kkr's miljø (fx i systemd-enheden) og start kkr igen\n"),
            })?;
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Self { transport: builder.build() })
    }
}

impl Transport for Smtp {
    fn send(&mut self, _key: &str, message: &lettre::Message) -> Result<Attempt> {
        use lettre::Transport as _;
        Ok(match self.transport.send(message) {
            Ok(_) => Attempt::Sent,
            Err(e) => classify(&e),
        })
    }
}

/// What a refusal means for the message: a 5xx is final, and a 552 (RFC 5321: exceeded
/// storage allocation) or the enhanced 5.3.4 (message too big for system) says it is the
/// size; a 4xx, a timeout or a connection that failed may go through later.
fn classify(e: &lettre::transport::smtp::Error) -> Attempt {
    let reason = e.to_string();
    if !e.is_permanent() {
        Attempt::Defer(reason)
    } else if e.status().is_some_and(|c| c.to_string() == "552")
        || reason.contains("5.3.4")
    {
        Attempt::TooLarge(reason)
    } else {
        Attempt::Bounce(reason)
    }
}
