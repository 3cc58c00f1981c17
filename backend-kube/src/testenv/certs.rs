//! Certificates for the test control plane, generated in-process with rcgen.
//!
//! Mirrors controller-runtime's envtest (`certs.TinyCA`): three independent authorities, ECDSA
//! P-256 keys. The serving CA signs kube-apiserver's certificate, the client CA signs the admin
//! client certificate (user `admin`, group `system:masters`), and a separate key pair signs
//! service-account tokens.

use std::net::{IpAddr, Ipv4Addr};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};

/// A PEM certificate and its PEM (PKCS#8) private key.
#[derive(Clone, Debug)]
pub(crate) struct CertAndKey {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
}

/// Every certificate and key the control plane needs.
#[derive(Clone, Debug)]
pub(crate) struct Pki {
    /// CA that signed the serving certificate (clients trust it).
    pub(crate) serving_ca: CertAndKey,
    /// kube-apiserver's serving certificate for `localhost` and `127.0.0.1`.
    pub(crate) serving: CertAndKey,
    /// CA kube-apiserver trusts for client certificates (`--client-ca-file`).
    pub(crate) client_ca: CertAndKey,
    /// The admin client certificate (CN=admin, O=system:masters).
    pub(crate) admin: CertAndKey,
    /// Service-account token signing key (PEM private key).
    pub(crate) service_account_key_pem: String,
    /// Service-account token verification key (PEM public key).
    pub(crate) service_account_public_pem: String,
}

/// The admin user's name (certificate CN).
pub(crate) const ADMIN_USER: &str = "admin";
/// The admin user's group (certificate O): bound to cluster-admin by the default RBAC policy.
pub(crate) const ADMIN_GROUP: &str = "system:masters";

impl Pki {
    /// Generates a fresh set of authorities and certificates.
    pub(crate) fn generate() -> Result<Self, rcgen::Error> {
        let serving_ca = new_ca("operator-runtime-testenv-serving-ca")?;
        let client_ca = new_ca("operator-runtime-testenv-client-ca")?;

        let mut serving = CertificateParams::new(vec!["localhost".to_owned()])?;
        serving
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        serving.distinguished_name.push(DnType::CommonName, "localhost");
        serving.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let serving = sign(serving, &serving_ca)?;

        let mut admin = CertificateParams::new(Vec::<String>::new())?;
        admin.distinguished_name.push(DnType::CommonName, ADMIN_USER);
        admin.distinguished_name.push(DnType::OrganizationName, ADMIN_GROUP);
        admin.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        admin.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let admin = sign(admin, &client_ca)?;

        let service_account = KeyPair::generate()?;
        Ok(Self {
            serving_ca: pem_pair(&serving_ca),
            serving,
            client_ca: pem_pair(&client_ca),
            admin,
            service_account_key_pem: service_account.serialize_pem(),
            service_account_public_pem: service_account.public_key_pem(),
        })
    }
}

fn new_ca(common_name: &str) -> Result<CertifiedIssuer<'static, KeyPair>, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "operator-runtime");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate()?)
}

fn sign(params: CertificateParams, ca: &CertifiedIssuer<'static, KeyPair>) -> Result<CertAndKey, rcgen::Error> {
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, ca)?;
    Ok(CertAndKey {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn pem_pair(ca: &CertifiedIssuer<'static, KeyPair>) -> CertAndKey {
    CertAndKey {
        cert_pem: ca.pem(),
        key_pem: ca.key().serialize_pem(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_distinct_pem_material() {
        let pki = Pki::generate().unwrap();
        for pem in [
            &pki.serving_ca.cert_pem,
            &pki.serving.cert_pem,
            &pki.client_ca.cert_pem,
            &pki.admin.cert_pem,
        ] {
            assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        }
        assert!(pki.service_account_key_pem.contains("PRIVATE KEY"));
        assert!(pki.service_account_public_pem.contains("PUBLIC KEY"));
        assert_ne!(pki.serving_ca.cert_pem, pki.client_ca.cert_pem);
        assert_ne!(pki.serving.key_pem, pki.admin.key_pem);
    }
}
