/**
 * The body of a route that takes none. With the package's validation pipe (forbidNonWhitelisted) any
 * property in it is refused with 400, while no body or `{}` passes.
 */
export class EmptyBodyDto {}
