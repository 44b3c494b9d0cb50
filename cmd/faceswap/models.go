package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"faceswap/models"
	"faceswap/models/optional"
	"faceswap/tfjs"
)

func modelsUsage(o *optional.Manifest) string {
	return `Usage: faceswap models list                         show every optional model: role, status, size, licence
Usage: faceswap models pull NAME [--url URL]          download NAME from its public home (resumes), check it, install it
Usage: faceswap models import NAME FILE               install FILE as NAME after checking it fits NAME's role
Usage: faceswap models verify                         re-check the installed optional models (sha256, inputs/outputs)
Usage: faceswap models rm NAME                        remove NAME (and any partial download)
Usage: faceswap models import-tfjs DIR [--out DIR]    convert TensorFlow.js graph models to ONNX

Optional models: ` + strings.Join(o.Names(), ", ") + `
They live in FACESWAP_HOME/onnx (default ~/.cache/faceswap/onnx).
`
}

// cmdModels dispatches the models subcommands.
func cmdModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := optional.Default()
	if len(args) == 0 {
		fmt.Fprint(stderr, modelsUsage(o))
		return fmt.Errorf("%w: models takes a subcommand: list, pull, import, verify, rm or import-tfjs", errUsage)
	}
	p := models.Default()
	switch args[0] {
	case "list":
		return cmdModelsList(o, p, args[1:], stdout, stderr)
	case "pull":
		return cmdModelsPull(ctx, o, p, args[1:], stdout, stderr)
	case "import":
		return cmdModelsImport(o, p, args[1:], stdout, stderr)
	case "verify":
		return cmdModelsVerify(o, p, args[1:], stdout, stderr)
	case "rm":
		return cmdModelsRemove(o, p, args[1:], stdout, stderr)
	case "import-tfjs":
		return cmdModelsImportTFJS(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, modelsUsage(o))
		return nil
	}
	fmt.Fprint(stderr, modelsUsage(o))
	return fmt.Errorf("%w: unknown models subcommand %q", errUsage, args[0])
}

// megabytes formats a size for people: "554 MB", "16.9 MB", "312 KB".
func megabytes(n int64) string {
	switch {
	case n >= 100<<20:
		return fmt.Sprintf("%d MB", (n+1<<19)>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", (n+1023)>>10)
}

func cmdModelsList(o *optional.Manifest, p models.Paths, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("models list", "models list", stderr)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	list := o.List(p)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tSIZE\tLICENCE")
	var notes []string
	for _, s := range list {
		size := megabytes(s.Size)
		if !s.Installed {
			size = megabytes(s.Model.Size)
			if !s.SizeExact {
				size = "~" + size
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Role, s.State(), size, s.License)
		switch {
		case s.Installed && !s.Verified:
			notes = append(notes, fmt.Sprintf("%s: %s", s.Name, s.Problem))
		case s.Installed && !s.Published && s.SHA256 != "":
			notes = append(notes, fmt.Sprintf("%s: not the published file (sha256 differs), accepted because it fits a %s (from %s)", s.Name, s.Role, s.Source))
		case !s.Installed && s.Partial > 0:
			notes = append(notes, fmt.Sprintf("%s: %s of an interrupted download are kept: `faceswap models pull %s` resumes it", s.Name, megabytes(s.Partial), s.Name))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	fmt.Fprintf(stdout, "Folder: %s. Install with `faceswap models pull NAME` or `faceswap models import NAME FILE`.\n", p.ONNXDir())
	return nil
}

func cmdModelsPull(ctx context.Context, o *optional.Manifest, p models.Paths, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("models pull", "models pull NAME [--url URL]", stderr)
	url := fs.String("url", "", "download from this URL (a mirror of the same file) instead of the model's public home")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	_, err = o.Pull(ctx, p, pos[0], optional.PullOptions{URL: *url, Progress: stderr, Log: stdout})
	return err
}

func cmdModelsImport(o *optional.Manifest, p models.Paths, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("models import", "models import NAME FILE", stderr)
	pos, err := parse(fs, args, 2)
	if err != nil {
		return err
	}
	s, err := o.Import(p, pos[0], pos[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: installed %s (%s), it fits a %s\n", s.Name, s.Path, megabytes(s.Size), s.Role)
	if s.Published {
		fmt.Fprintf(stdout, "%s: sha256 matches the published file\n", s.Name)
	} else if s.SHA256 != "" {
		fmt.Fprintf(stdout, "%s: not the published file (its sha256 differs): accepted because its inputs and outputs fit\n", s.Name)
	}
	fmt.Fprintf(stdout, "%s: licence: %s\n", s.Name, s.License)
	if s.NonCommercial {
		fmt.Fprintf(stdout, "NOTICE: %s may be used for non-commercial purposes only.\n", s.Name)
	}
	return nil
}

func cmdModelsVerify(o *optional.Manifest, p models.Paths, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("models verify", "models verify", stderr)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	list, verr := o.Verify(p)
	n := 0
	for _, s := range list {
		if !s.Installed {
			continue
		}
		n++
		switch {
		case !s.Verified:
			fmt.Fprintf(stdout, "%s: DAMAGED: %s\n", s.Name, s.Problem)
		case s.Published:
			fmt.Fprintf(stdout, "%s: ok (the published file)\n", s.Name)
		default:
			fmt.Fprintf(stdout, "%s: ok (fits a %s and is unchanged since it was installed; not the published file)\n", s.Name, s.Role)
		}
	}
	if n == 0 {
		fmt.Fprintln(stdout, "no optional model is installed")
	}
	return verr
}

func cmdModelsRemove(o *optional.Manifest, p models.Paths, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("models rm", "models rm NAME", stderr)
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	removed, err := o.Remove(p, pos[0])
	if err != nil {
		return err
	}
	m, _ := o.Lookup(pos[0])
	if removed {
		fmt.Fprintf(stdout, "removed %s\n", m.Name)
	} else {
		fmt.Fprintf(stdout, "%s was not installed\n", m.Name)
	}
	return nil
}

func cmdModelsImportTFJS(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("models import-tfjs", "models import-tfjs DIR [--out DIR]", stderr)
	out := fs.String("out", models.Default().ONNXDir(), "folder for the .onnx files")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	_, err = tfjs.ImportDirWith(pos[0], *out, stdout, tfjs.Options{FlexibleSize: models.FlexibleSize})
	return err
}
