/** Which departments a caller may see: all of them, or exactly one. */
export type DepartmentScope = { readonly departmentId: string | null };

export const ALL_DEPARTMENTS: DepartmentScope = Object.freeze({ departmentId: null });
