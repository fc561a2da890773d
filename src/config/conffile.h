/* SPDX-License-Identifier: ISC */
/* conffile.h: a configuration file and its @includes, read into one text. */
#ifndef SOCKECHOD_CONFFILE_H
#define SOCKECHOD_CONFFILE_H

#include <stdbool.h>
#include <stddef.h>

#define CONFFILE_MAX_BYTES	(1024 * 1024)	/* all files together */
#define CONFFILE_MAX_DEPTH	8		/* includes within includes */

/* Lines [merged_line, next piece) of the text come from file, from line. */
struct conffile_piece {
	unsigned	 merged_line;
	const char	*file;
	unsigned	 line;
};

struct conffile {
	char			*text;		/* NUL-terminated */
	size_t			 len;
	unsigned		 lines;		/* newlines in text */
	unsigned		*line_start;	/* offset of each line */
	char			**files;	/* names the pieces point to */
	size_t			 nfiles;
	struct conffile_piece	*piece;
	size_t			 npieces;
	bool			 missing;	/* the main file does not exist */
	/* The first problem: in file at line (0: the file as a whole). */
	const char		*error_file;
	unsigned		 error_line;
	char			 error[512];
};

int	conffile_read(struct conffile *, const char *path);
void	conffile_where(const struct conffile *, unsigned merged_line,
	    const char **file, unsigned *line);
void	conffile_free(struct conffile *);

#endif
