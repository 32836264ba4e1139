// SPDX-License-Identifier: GPL-2.0-or-later
// Listing folders of central, the one place the page depends on how central
// stores objects. Two styles, told apart by the answer's Content-Type:
//
//  - nginx (or any WebDAV server) with `autoindex on; autoindex_format json;`
//    answers GET {root}{prefix} with a JSON array of
//    {"name", "type": "directory"|"file", "mtime", "size"};
//  - an S3 store answers GET {root}?list-type=2&prefix=P&delimiter=/ with a
//    ListObjectsV2 XML document (<CommonPrefixes> for folders, <Contents>
//    for objects, <NextContinuationToken> when truncated).
//
// The first listing is always asked in the S3 form at the root: an S3 store
// answers it with XML; nginx ignores the query and answers the root folder's
// JSON. Whichever type comes back fixes the style for every later listing.
//
// list(prefix[, startAfter]) resolves to {dirs: [name], files: [{name, size,
// mtime}]}, names relative to prefix (which ends with "/" or is ""), sorted
// by name, only those after startAfter when given.
"use strict";

const FleetListing = (() => {
	function kind(res) {
		const ct = (res.headers.get("Content-Type") || "").toLowerCase();
		if (ct.includes("json")) return "autoindex";
		if (ct.includes("xml")) return "s3";
		return "";
	}

	function sorted(out) {
		out.dirs.sort();
		out.files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
		return out;
	}

	function fromAutoindex(arr) {
		const out = { dirs: [], files: [] };
		for (const e of Array.isArray(arr) ? arr : []) {
			if (e.type === "directory") out.dirs.push(e.name);
			else if (e.type === "file")
				out.files.push({ name: e.name, size: e.size || 0, mtime: e.mtime || "" });
		}
		return out;
	}

	// One page of a ListObjectsV2 answer, into out; returns the token of the
	// next page or "".
	function fromS3(text, prefix, out) {
		const doc = new DOMParser().parseFromString(text, "application/xml");
		const err = doc.getElementsByTagName("parsererror")[0];
		if (err) throw new Error("S3 listing is not XML");
		const code = doc.getElementsByTagName("Code")[0];
		if (doc.documentElement.nodeName === "Error")
			throw new Error("S3: " + (code ? code.textContent : "error"));
		const child = (el, name) => {
			const c = el.getElementsByTagName(name)[0];
			return c ? c.textContent : "";
		};
		for (const p of doc.getElementsByTagName("CommonPrefixes")) {
			const name = child(p, "Prefix").slice(prefix.length).replace(/\/$/, "");
			if (name) out.dirs.push(name);
		}
		for (const c of doc.getElementsByTagName("Contents")) {
			const name = child(c, "Key").slice(prefix.length);
			if (name && !name.includes("/"))
				out.files.push({ name, size: Number(child(c, "Size")) || 0,
						 mtime: child(c, "LastModified") });
		}
		return child(doc.documentElement, "IsTruncated") === "true"
			? child(doc.documentElement, "NextContinuationToken") : "";
	}

	function s3Query(prefix, token, startAfter) {
		// "/" left as is: S3 takes it unencoded in a query value.
		const enc = (v) => encodeURIComponent(v).replace(/%2F/g, "/");
		let q = "?list-type=2&delimiter=/&prefix=" + enc(prefix);
		if (startAfter) q += "&start-after=" + enc(prefix + startAfter);
		if (token) q += "&continuation-token=" + encodeURIComponent(token);
		return q;
	}

	class Central {
		// root: URL of central's root folder, ending with "/".
		constructor(root) {
			this.root = root.endsWith("/") ? root : root + "/";
			this.style = "";	// "autoindex" or "s3" once known
		}

		url(name) {
			return this.root + name;
		}

		async get(name, opts) {
			const res = await fetch(this.url(name), Object.assign({ cache: "no-store" }, opts || {}));
			if (!res.ok) {
				const e = new Error(name + ": HTTP " + res.status);
				e.status = res.status;
				throw e;
			}
			return res;
		}

		async json(name) {
			return (await this.get(name, { headers: { Accept: "application/json" } })).json();
		}

		// startAfter (optional): only names after it. S3 skips the rest
		// itself (start-after), which keeps a folder of many time-named
		// objects (events/) cheap to list; autoindex has no such thing:
		// the whole folder is read and the rest dropped here.
		async list(prefix, startAfter) {
			const out = await this.listAll(prefix, startAfter);
			if (startAfter) {
				out.dirs = out.dirs.filter((n) => n > startAfter);
				out.files = out.files.filter((f) => f.name > startAfter);
			}
			return out;
		}

		async listAll(prefix, startAfter) {
			if (this.style !== "autoindex") {
				const out = { dirs: [], files: [] };
				let token = "";
				do {
					const res = await this.get(s3Query(prefix, token, startAfter));
					const k = kind(res);
					if (k === "autoindex" && !this.style) {
						this.style = "autoindex";
						if (prefix === "") return sorted(fromAutoindex(await res.json()));
						break;
					}
					if (k !== "s3")
						throw new Error("listing of '" + prefix + "': neither JSON nor XML (" +
								res.headers.get("Content-Type") + ")");
					this.style = "s3";
					token = fromS3(await res.text(), prefix, out);
				} while (token);
				if (this.style === "s3") return sorted(out);
			}
			try {
				return sorted(fromAutoindex(await this.json(prefix)));
			} catch (e) {
				if (e.status === 404) return { dirs: [], files: [] };
				throw e;
			}
		}
	}

	return { Central, fromS3, fromAutoindex };
})();
