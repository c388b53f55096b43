//! TLS to MySQL/MariaDB (issue 15): a test CA made here with the `openssl` CLI, a private
//! `mariadbd` of the test's own serving a certificate for `localhost`, and the tool connecting
//! with each `ssl-mode`: what verifies connects, what does not is refused saying which check
//! failed, and accounts created `REQUIRE SSL` / `REQUIRE X509` work.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{own_mysql_server_with, Db, Env};

/// Runs `openssl ARGS` in `dir`, failing the test on an error.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("openssl (package openssl) is needed: {e}"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`NAME.pem`, `NAME.key`) in `dir`.
fn ca(dir: &Path, name: &str) {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
        ],
    );
}

/// A certificate `NAME.pem` (key `NAME.key`) signed by the CA `by`, for `san`
/// (`DNS:localhost`), or without a subjectAltName for a client.
fn cert(dir: &Path, name: &str, by: &str, san: Option<&str>) {
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={name}"),
        ],
    );
    let ext = format!("{name}.ext");
    std::fs::write(
        dir.join(&ext),
        match san {
            Some(san) => format!("subjectAltName={san}\n"),
            None => "basicConstraints=CA:FALSE\n".to_string(),
        },
    )
    .expect("write ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{by}.pem"),
            "-CAkey",
            &format!("{by}.key"),
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            &ext,
        ],
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join(&key), std::fs::Permissions::from_mode(0o600))
        .expect("chmod key");
}

#[test]
fn tls_modes_verify_what_they_say() {
    let env = Env::new();
    let pki = env.join("pki");
    std::fs::create_dir_all(&pki).expect("pki dir");
    ca(&pki, "ca");
    ca(&pki, "other-ca");
    cert(&pki, "server", "ca", Some("DNS:localhost"));
    cert(&pki, "client", "ca", None);
    let file = |name: &str| -> PathBuf { pki.join(name) };
    let arg = |k: &str, name: &str| format!("--{k}={}", file(name).display());
    let Some(server) = own_mysql_server_with(&[
        arg("ssl-ca", "ca.pem"),
        arg("ssl-cert", "server.pem"),
        arg("ssl-key", "server.key"),
    ]) else {
        return;
    };
    let port = server.port();
    server.admin_exec(
        "CREATE DATABASE aur; \
         CREATE USER 'tls_user'@'%' IDENTIFIED BY 'tlssecret' REQUIRE SSL; \
         GRANT ALL ON aur.* TO 'tls_user'@'%'; \
         CREATE USER 'x509_user'@'%' IDENTIFIED BY 'x509secret' REQUIRE X509; \
         GRANT ALL ON aur.* TO 'x509_user'@'%'",
    );
    env.migration("0001_one.sql", "CREATE TABLE one (id INT PRIMARY KEY);\n");
    let url = |account: &str, host: &str, params: &str| {
        format!("mysql://{account}@{host}:{port}/aur?{params}")
    };
    let ca_param = format!("ssl-ca={}", file("ca.pem").display());
    let status = |u: &str| {
        env.run(&[
            "status",
            "-v",
            "--connect-timeout",
            "5",
            "--database-url",
            u,
        ])
    };

    // The CA and the name check out: encrypted, and `status -v` says how.
    let run = status(&url(
        "tls_user:tlssecret",
        "localhost",
        &format!("ssl-mode=verify-identity&{ca_param}"),
    ));
    run.ok()
        .stdout_has("connection: encrypted, TLSv1.")
        .stdout_has("cipher ")
        .stdout_has("(ssl-mode=verify-identity)")
        .nowhere("tlssecret");
    env.run(&[
        "upgrade",
        "--database-url",
        &url(
            "tls_user:tlssecret",
            "localhost",
            &format!("ssl-mode=verify-identity&{ca_param}"),
        ),
    ])
    .ok();

    // The certificate is for localhost, not 127.0.0.1: refused, saying so. (verify-ca checks
    // the CA; with sqlx 0.8.6 and the rustls it uses it also checks the name, see docs/operators.md, "TLS".)
    status(&url(
        "tls_user:tlssecret",
        "127.0.0.1",
        &format!("ssl-mode=verify-identity&{ca_param}"),
    ))
    .code(3)
    .stderr_has("not for the name 127.0.0.1");
    status(&url(
        "tls_user:tlssecret",
        "localhost",
        &format!("ssl-mode=verify-ca&{ca_param}"),
    ))
    .ok()
    .stdout_has("(ssl-mode=verify-ca)");

    // An untrusted CA.
    status(&url(
        "tls_user:tlssecret",
        "localhost",
        &format!(
            "ssl-mode=verify-ca&ssl-ca={}",
            file("other-ca.pem").display()
        ),
    ))
    .code(3)
    .stderr_has("not signed by a trusted CA");

    // The loopback default (preferred) uses TLS when offered: a REQUIRE SSL account gets in;
    // with TLS disabled it is refused by the server.
    status(&url("tls_user:tlssecret", "127.0.0.1", ""))
        .ok()
        .stdout_has("connection: encrypted")
        .stdout_has("(ssl-mode=preferred)");
    status(&url("tls_user:tlssecret", "127.0.0.1", "ssl-mode=disabled"))
        .code(3)
        .stderr_has("Access denied");

    // REQUIRE X509: the client certificate gets in, no certificate does not.
    let client = format!(
        "ssl-cert={}&ssl-key={}",
        file("client.pem").display(),
        file("client.key").display()
    );
    status(&url("x509_user:x509secret", "127.0.0.1", &client))
        .ok()
        .stdout_has("connection: encrypted");
    status(&url("x509_user:x509secret", "127.0.0.1", ""))
        .code(3)
        .stderr_has("Access denied");

    // A key others can read is refused before connecting (exit 2).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file("client.key"), std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    status(&url("x509_user:x509secret", "127.0.0.1", &client))
        .code(2)
        .stderr_has("readable by others (mode 644)")
        .stderr_has("chmod 600");
}

/// A server without TLS, with `required`: refused, naming `ssl-mode=disabled` as the opt-out.
#[test]
fn required_tls_is_refused_by_a_plain_server() {
    let env = Env::new();
    let Some(db) = Db::mysql(&env, module_path!()) else {
        return;
    };
    let have_ssl = db.strings("SELECT CAST(@@have_ssl AS CHAR)");
    if have_ssl.first().is_some_and(|v| v == "YES") {
        // The shared server offers TLS: nothing to show here.
        return;
    }
    let url = format!("{}?ssl-mode=required", db.url());
    env.run(&["-m", "builtin", "status", "--database-url", &url])
        .code(3)
        .stderr_has("does not offer TLS")
        .stderr_has("ssl-mode=disabled");
}
