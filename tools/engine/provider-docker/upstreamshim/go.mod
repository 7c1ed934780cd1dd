// A one-file module of ours whose import path sits *under* the upstream provider's module path.
// Go allows a package to import an internal/ package when the importer's import path starts with
// the internal's parent path (cmd/go, "use of internal package ... not allowed" is decided on
// import paths in module mode, golang/go#23970), so this module may call the upstream's
// internal/provider.New without copying or patching the upstream source.
module github.com/terraform-providers/terraform-provider-docker/appinfrashim

go 1.25.8
