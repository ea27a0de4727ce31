// Images for apply: every declared image is built into a staging directory first (so a bad Dockerfile or a
// missing context changes nothing), compared with the image in place by digest, and swapped in on commit.
import { existsSync, mkdtempSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { buildImage, listImages, type ImageRecord } from "../jobs/images.js";
import type { ImageDecl, Resource } from "./resources.js";

export interface StagedImage {
  decl: ImageDecl;
  record: ImageRecord;
  /** where it was built */
  staged: string;
  /** where it goes */
  final: string;
}

const dirOf = (root: string, r: { registry: string; repository: string; tag: string }) =>
  join(root, r.registry, ...r.repository.split("/"), r.tag);

/** The resource an image is, for diffs: what it is built from and the digest of the result. */
export function imageResource(r: ImageRecord, decl?: ImageDecl): Resource {
  const fields: Record<string, unknown> = { context: r.source, dockerfile: r.dockerfile, digest: r.digest };
  return { kind: "image", id: r.ref, fields, path: decl?.path, spec: decl };
}

export class ImageStaging {
  private readonly root: string;

  constructor(private readonly imagesDir: string) {
    mkdirSync(imagesDir, { recursive: true });
    // inside the images dir: the same filesystem (renames are atomic) and hidden from listings (a dot name)
    this.root = mkdtempSync(join(imagesDir, ".apply-"));
  }

  /** Builds one image into the staging area; throws ImageError/DockerfileError as `acr build` would. */
  build(decl: ImageDecl): StagedImage {
    const record = buildImage({
      imagesDir: this.root,
      registry: decl.registry,
      image: decl.image,
      contextDir: decl.context,
      dockerfile: decl.dockerfile,
      buildArgs: decl.buildArgs,
    });
    return { decl, record, staged: dirOf(this.root, record), final: dirOf(this.imagesDir, record) };
  }

  /** Puts a staged image in place; returns how to put the previous one back. */
  commit(img: StagedImage): () => void {
    const old = `${img.final}.old-${process.pid}`;
    const had = existsSync(img.final);
    if (had) renameSync(img.final, old);
    mkdirSync(dirname(img.final), { recursive: true });
    renameSync(img.staged, img.final);
    return () => {
      rmSync(img.final, { recursive: true, force: true });
      if (had) renameSync(old, img.final);
    };
  }

  /** Forgets what the previous images were (after a successful apply) and the staging area. */
  finish(): void {
    rmSync(this.root, { recursive: true, force: true });
    for (const r of listImages(this.imagesDir))
      rmSync(`${dirOf(this.imagesDir, r)}.old-${process.pid}`, { recursive: true, force: true });
  }
}

/** The images in place, by reference. */
export function installedImages(imagesDir: string): Map<string, ImageRecord> {
  return new Map(listImages(imagesDir).map((r) => [r.ref.toLowerCase(), r]));
}

/** Deletes an image (destroy, or an image no longer declared). */
export function removeImage(imagesDir: string, r: ImageRecord): void {
  rmSync(dirOf(imagesDir, r), { recursive: true, force: true });
}
