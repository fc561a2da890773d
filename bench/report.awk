# SPDX-License-Identifier: ISC
# bench/report.awk: bench/load's RESULT lines -> the Markdown table of
# RESULTS.md and the README: per scenario and server, the median of the
# repetitions with their spread (min-max), and the ratio to sockechod.
# Scenarios and servers keep the order they first ran in. It measures
# nothing and judges nothing.

function median(list,    v, n, i, j, t) {
	n = split(list, v, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	lo = v[1]; hi = v[n]
	if (n % 2)
		return v[(n + 1) / 2] + 0
	return (v[n / 2] + v[n / 2 + 1]) / 2
}

# 12345.6 -> "12,346"; small figures keep some decimals.
function num(x,    s, int_part, out) {
	if (x >= 1e15)
		return "∞"
	if (x < 10)
		return sprintf("%.2f", x)
	if (x < 100)
		return sprintf("%.1f", x)
	s = sprintf("%.0f", x)
	out = ""
	while (length(s) > 3) {
		out = "," substr(s, length(s) - 2) out
		s = substr(s, 1, length(s) - 3)
	}
	return s out
}

function ratio(a, b) {
	if (b == 0 || a >= 1e15 || b >= 1e15)
		return "–"
	return sprintf("%.2f", a / b)
}

/^RESULT / {
	delete f
	for (i = 2; i <= NF; i++) {
		k = substr($i, 1, index($i, "=") - 1)
		f[k] = substr($i, index($i, "=") + 1)
	}
	sc = f["scenario"]; sv = f["server"]; key = sc SUBSEP sv
	if (!(sc in seen_sc)) { seen_sc[sc] = 1; scs[++nsc] = sc }
	if (!(sv in seen_sv)) { seen_sv[sv] = 1; svs[++nsv] = sv }
	if (f["unit"] ~ /^skipped/) {
		skip[key] = "skipped: not enough descriptors (RLIMIT_NOFILE " f["nofile"] ")"
		next
	}
	rate = f["rate"] + 0
	if (f["unit"] == "max/min" && rate < 0)
		rate = 1e18
	rates[key] = rates[key] " " rate
	p50[key] = p50[key] " " f["p50_us"]
	p99[key] = p99[key] " " f["p99_us"]
	cpu[key] = cpu[key] " " f["cpu_us"]
	errs[key] += f["errors"]
	n[key]++
	unit[sc] = f["unit"]
	if (f["dist"] != "")
		dist[key] = f["procs"] == 1 ? "1 process" : f["dist"]
}

function cpu_unit(u) {
	if (u == "MB/s") return "µs/MB"
	if (u == "sessions/s") return "µs/session"
	if (u == "B/conn") return "µs/echo"
	return "µs/op"
}

END {
	print "| scenario | server | median | spread (min–max) | × sockechod | p50 µs | p99 µs | server CPU | CPU × sockechod | errors |"
	print "|---|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= nsc; i++) {
		sc = scs[i]; u = unit[sc]
		base = (sc SUBSEP "sockechod") in n
		if (base) {
			bm = median(rates[sc SUBSEP "sockechod"])
			bc = median(cpu[sc SUBSEP "sockechod"])
		}
		for (j = 1; j <= nsv; j++) {
			key = sc SUBSEP svs[j]
			if (!(key in n) && (key in skip)) {
				printf "| %s | %s | %s | | | | | | | 0 |\n", sc, svs[j], skip[key]
				continue
			}
			if (!(key in n))
				continue
			m = median(rates[key]); mlo = lo; mhi = hi
			c = median(cpu[key])
			fig = num(m) " " u
			if (u == "max/min" && (key in dist))
				fig = fig " (" dist[key] ")"
			printf "| %s | %s | %s | %s–%s | %s | %s | %s | %s | %s | %d |\n", \
			    sc, svs[j], fig, num(mlo), num(mhi), \
			    base ? ratio(m, bm) : "–", \
			    num(median(p50[key])), num(median(p99[key])), \
			    u == "max/min" ? "–" : num(c) " " cpu_unit(u), \
			    base && u != "max/min" ? ratio(c, bc) : "–", errs[key]
		}
	}
	print ""
	print "Medians of the repetitions (n = " n[scs[1] SUBSEP svs[1]] " for the first row). \"1 process\": a server of one process, balanced by definition. ×: the median over sockechod's; higher is better for ops/s, sessions/s and MB/s, lower for B/conn, max/min and CPU. B/conn: the server's resident memory per idle connection after one echo each (p50/p99: those echoes, one after the other). max/min: open connections per worker process after a burst of that many, the last repetition's shares in brackets. Server CPU: the run time of the server's whole process tree (schedstat of its live threads, and the cutime and cstime of the children its processes reaped), per operation, per MB echoed, per session or per echo."
}
