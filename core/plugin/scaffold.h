/* `jarvis new-plugin NAME [DIR]`: writes DIR/NAME.c, a fresh plugin whose
 * command is /NAME, instead of a copy of plugins/hello whose /ping and
 * /echo would be refused as duplicates. */
#ifndef JARVIS_SCAFFOLD_H
#define JARVIS_SCAFFOLD_H

/* 0, 64 for a bad name, 73 (EX_CANTCREAT) when the file exists or cannot be written. */
int scaffold_write(const char *name, const char *directory);

#endif
