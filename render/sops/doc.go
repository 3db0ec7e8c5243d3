// Package sops decrypts files and objects encrypted with SOPS
// (https://getsops.io) at render time, as Flux's kustomize-controller does, with
// age and OpenPGP keys the caller supplies, so that Secrets can live in Git
// encrypted.
//
// # Where it decrypts
//
// A [Renderer] wraps any render.Renderer (render.Auto, the kustomize or Helm
// renderer, render/isolate's) and hands it the artifact through a file system
// that decrypts SOPS files as they are read, in memory: the manifests of a plain
// directory, the resources, patches and secretGenerator sources (.env, .json,
// .yaml and other files) of a kustomization, a chart's values files. There each
// file's MAC is checked against the file as it is in Git. [Decryptor.Transform]
// decrypts rendered objects instead, as a post-render transform
// (reconcile.Options.Transforms takes it): objects that still hold SOPS
// metadata, and Secrets whose data holds a whole SOPS file. A rendered object
// has lost the field order of its file, which the MAC covers, so there each
// value is authenticated (AES-GCM, with its path) but the MAC is not checked.
//
// # The format
//
// The file formats are SOPS's: YAML (every document of a file under one data
// key and MAC, as `sops -e` writes it; files of separately encrypted documents
// joined are decrypted document by document), JSON, dotenv and binary files
// (any other extension: a JSON envelope), chosen by the file's extension as
// SOPS chooses. Values are ENC[AES256_GCM,data:…,iv:…,tag:…,type:…], selected by
// the metadata's encrypted_regex, unencrypted_regex, encrypted_suffix or
// unencrypted_suffix; mac_only_encrypted is honoured. Key groups with a Shamir
// threshold, comment regexes and the INI format fail with [ErrUnsupported].
// This package implements the format itself on filippo.io/age and ProtonMail's
// go-crypto, and does not import SOPS, whose key sources link the cloud SDKs.
//
// # Keys
//
// [Options.Keys] holds age identities and armored OpenPGP private keys;
// [KeysFromData] reads them from a Secret's data named as Flux names them
// (*.agekey, *.asc). Cloud key management (AWS KMS, GCP KMS, Azure Key Vault,
// HashiCorp Vault) is a [KeySource] the caller implements with its cloud's SDK
// and sets in [Options.KeySources]: a program that sets none links none.
//
// # Secrets stay secret
//
// Errors and logs name the file, the document and the path of a value
// ("secret.yaml: stringData.password: MAC does not verify"), never a value.
// Decrypted content is never written to disk: a render.Cache holds results in
// memory, and render/isolate's child gets the artifact through a pipe. The
// Renderer's pin, which render.Cache adds to its key, holds
// [Decryptor.Digest], a digest of the keys' public parts. A file no key opens,
// whose MAC does not verify or that is malformed fails the render that uses it,
// naming it, so reconcile applies and prunes nothing.
package sops
